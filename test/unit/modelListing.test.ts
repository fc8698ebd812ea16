// The local walker lists a ComfyUI install as ComfyUI's folder_paths would:
// per-kind extensions (readme.txt is no LoRA, .gguf only where GGUF loaders
// read it, .yaml only in configs), every depth, hidden files, .git skipped,
// symlink loops entered once, a folder two kinds share listed once under the
// kind its extension says, and the folders ComfyUI added lately. The pod
// helper is held to the same vector (helperListing.test.ts).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LocalModels } from '../../src/main/models/localModels'
import { extensionOf, listsFile } from '../../src/shared/modelFiles'
import { COMFY_FOLDERS } from '../../src/main/models/folders'
import { layOut, listingVector, sorted } from '../support/modelListing'

describe('listing as ComfyUI lists', () => {
  it('the shared vector: kinds, extensions, depth, hidden files, shared and looping folders', async () => {
    const v = listingVector()
    const comfyui = layOut(v, mkdtempSync(join(tmpdir(), 'podpull-listing-')))
    const inv = await new LocalModels(comfyui).installed()
    expect(inv.warning).toBeNull()
    expect(sorted(inv.models.map((m) => [m.folder, m.name, Boolean(m.extra)]))).toEqual(
      sorted(v.expect)
    )
    expect(sorted(inv.partials.map((p) => [p.folder, p.name]))).toEqual(sorted(v.partials))
  })

  it('extensions as os.path.splitext reads them, and the folders ComfyUI has now', () => {
    expect(extensionOf('.hidden')).toBe('')
    expect(extensionOf('.hidden.PT')).toBe('.pt')
    expect(extensionOf('a/b.c/name')).toBe('')
    expect(listsFile('loras', 'readme.txt')).toBe(false)
    expect(listsFile('diffusion_models', 'x.gguf')).toBe(true)
    expect(listsFile('checkpoints', 'x.gguf')).toBe(false)
    expect(listsFile('configs', 'x.yaml')).toBe(true)
    expect(listsFile('checkpoints', 'x.pt2')).toBe(true)
    expect(listsFile('my_custom', 'notes.txt', true)).toBe(true)
    expect(COMFY_FOLDERS).toEqual(
      expect.arrayContaining([
        'latent_upscale_models',
        'background_removal',
        'frame_interpolation',
        'geometry_estimation',
        'optical_flow',
        'detection',
        'model_patches',
        'audio_encoders'
      ])
    )
  })
})
