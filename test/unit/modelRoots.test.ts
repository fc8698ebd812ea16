// Which directory a download goes to once extra_model_paths.yaml is honoured:
// ComfyUI's own rule (an is_default path comes first, the last one listed
// first of all; a folder only the yaml knows uses its first path), else models/.
import { posix } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseExtraModelPaths } from '../../src/main/models/extraModelPaths'
import { chooseRoot, placeFolder } from '../../src/main/models/modelRoots'

const yaml = [
  'a111:',
  '    base_path: /mnt/webui',
  '    checkpoints: models/Stable-diffusion',
  '    loras: models/Lora',
  '    my_nodes_models: models/custom',
  'shared:',
  '    base_path: /data',
  '    is_default: true',
  '    loras: |',
  '        loras-old',
  '        loras',
  '    clip: encoders/',
  ''
].join('\n')
const roots = parseExtraModelPaths(yaml, '/w/ComfyUI', posix)
const models = '/w/ComfyUI/models'

describe('destination root', () => {
  it('an is_default path wins, the last one listed (ComfyUI puts each first)', () => {
    expect(chooseRoot('loras', roots)?.dir).toBe('/data/loras')
    expect(placeFolder(models, 'loras', roots)).toEqual({
      root: '/data/loras',
      parts: [],
      extra: true
    })
    // A sub-folder goes below the root; a legacy alias finds its current folder's root.
    expect(placeFolder(models, 'loras/flux', roots)).toMatchObject({
      root: '/data/loras',
      parts: ['flux']
    })
    expect(placeFolder(models, 'clip', roots)).toEqual({
      root: '/data/encoders',
      parts: [],
      extra: true
    })
    expect(placeFolder(models, 'text_encoders/t5', roots).root).toBe('/data/encoders')
  })

  it('a folder ComfyUI knows stays in models/ unless a default path is set', () => {
    expect(chooseRoot('checkpoints', roots)).toBeUndefined()
    expect(placeFolder(models, 'checkpoints/sdxl', roots)).toEqual({
      root: models,
      parts: ['checkpoints', 'sdxl'],
      extra: false
    })
    expect(placeFolder(models, 'vae', [])).toEqual({ root: models, parts: ['vae'], extra: false })
  })

  it('a folder only the yaml names goes to its first path', () => {
    expect(placeFolder(models, 'my_nodes_models', roots)).toEqual({
      root: '/mnt/webui/models/custom',
      parts: [],
      extra: true
    })
    expect(placeFolder(models, 'unheard_of', roots).extra).toBe(false)
  })
})
