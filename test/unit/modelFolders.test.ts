// ComfyUI folder rules: current names for legacy aliases, folders named in a
// repo path, and extra_model_paths.yaml as ComfyUI reads it.
import { posix } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseExtraModelPaths } from '../../src/main/models/extraModelPaths'
import {
  canonicalFolder,
  folderFromPath,
  folderGroup,
  suggestFolder
} from '../../src/main/models/folders'

describe('folder rules', () => {
  it('legacy aliases map to the current folder and back', () => {
    expect(canonicalFolder('unet')).toBe('diffusion_models')
    expect(canonicalFolder('clip/flux')).toBe('text_encoders/flux')
    expect(canonicalFolder('t2i_adapter')).toBe('controlnet')
    expect(folderGroup('text_encoders')).toEqual(['text_encoders', 'clip'])
  })

  it('a folder named in a repo path wins (split_files/vae/… → vae)', () => {
    expect(folderFromPath('split_files/vae/ae.safetensors')).toBe('vae')
    expect(folderFromPath('split_files/text_encoders/t5xxl_fp16.safetensors')).toBe('text_encoders')
    expect(folderFromPath('unet/flux.gguf')).toBe('diffusion_models')
    expect(folderFromPath('flux1-dev.safetensors')).toBeUndefined()
    expect(suggestFolder('x.safetensors', { civitaiType: 'LORA' })).toBe('loras')
  })
})

describe('extra_model_paths.yaml', () => {
  it('reads base_path relative to the file, multi-line lists, aliases and is_default', () => {
    const text = [
      'comfyui:',
      '    base_path: /mnt/shared/',
      '    is_default: true',
      '    checkpoints: models/checkpoints/',
      '    clip: models/clip/',
      '    custom_nodes: custom_nodes/',
      'a111:',
      '    base_path: ../webui',
      '    loras: |',
      '         models/Lora',
      '         models/LyCORIS',
      'plain:',
      '    vae: /abs/vae',
      ''
    ].join('\n')
    expect(parseExtraModelPaths(text, '/home/u/ComfyUI', posix, { home: '/home/u' })).toEqual([
      { folder: 'checkpoints', dir: '/mnt/shared/models/checkpoints', isDefault: true },
      { folder: 'text_encoders', dir: '/mnt/shared/models/clip', isDefault: true },
      { folder: 'loras', dir: '/home/u/webui/models/Lora', isDefault: false },
      { folder: 'loras', dir: '/home/u/webui/models/LyCORIS', isDefault: false },
      { folder: 'vae', dir: '/abs/vae', isDefault: false }
    ])
  })

  it('malformed YAML is a clear error', () => {
    expect(() => parseExtraModelPaths('a: [b', '/c', posix)).toThrow(/not valid YAML/)
  })
})
