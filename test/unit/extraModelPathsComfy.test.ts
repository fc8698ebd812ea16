// extra_model_paths.yaml read exactly as ComfyUI's utils/extra_config.py reads
// it: ComfyUI's own example file; base_path through expanduser + expandvars
// (paths are taken as written, as ComfyUI takes them); is_default by PyYAML
// (YAML 1.1) and Python truthiness; t2i_adapter a kind of its own, not
// controlnet; trailing slashes dropped by normpath.
import { readFileSync } from 'node:fs'
import { posix } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseExtraModelPaths } from '../../src/main/models/extraModelPaths'
import { chooseRoot, placeFolder } from '../../src/main/models/modelRoots'

const example = readFileSync(
  new URL('../fixtures/comfyui/extra_model_paths.yaml.example', import.meta.url),
  'utf8'
)
const parse = (text: string, env: Record<string, string> = {}, warnings: string[] = []) =>
  parseExtraModelPaths(text, '/home/u/ComfyUI', posix, { home: '/home/u', env, warnings })

describe("ComfyUI's extra_model_paths.yaml.example", () => {
  it('gives the A1111 folders, relative to the file, one root per listed line', () => {
    const webui = '/home/u/ComfyUI/path/to/stable-diffusion-webui'
    expect(parse(example).map((r) => [r.folder, r.dir, r.isDefault])).toEqual([
      ['checkpoints', `${webui}/models/Stable-diffusion`, false],
      ['configs', `${webui}/models/Stable-diffusion`, false],
      ['vae', `${webui}/models/VAE`, false],
      ['loras', `${webui}/models/Lora`, false],
      ['loras', `${webui}/models/LyCORIS`, false],
      ['upscale_models', `${webui}/models/ESRGAN`, false],
      ['upscale_models', `${webui}/models/RealESRGAN`, false],
      ['upscale_models', `${webui}/models/SwinIR`, false],
      ['embeddings', `${webui}/embeddings`, false],
      ['hypernetworks', `${webui}/models/hypernetworks`, false],
      ['controlnet', `${webui}/models/ControlNet`, false]
    ])
  })

  it('its commented-out comfyui section, switched on with is_default, takes the downloads', () => {
    const text = example.replace(/^#comfyui:\n((?:#.*\n)*)/m, (_all, body: string) =>
      [
        'comfyui:',
        ...body
          .split('\n')
          .map((l) => l.replace(/^#/, '').replace(/^(\s+)#is_default/, '$1is_default'))
      ]
        .filter((l) => !/^\s*#/.test(l))
        .join('\n')
    )
    const roots = parse(text.replace('path/to/comfyui/', '/srv/comfy/'))
    expect(chooseRoot('diffusion_models', roots)?.dir).toBe('/srv/comfy/models/unet')
    expect(chooseRoot('text_encoders', roots)?.dir).toBe('/srv/comfy/models/clip')
    expect(chooseRoot('checkpoints', roots)?.dir).toBe('/srv/comfy/models/checkpoints')
  })
})

describe('base_path and paths as ComfyUI expands them', () => {
  it('$VAR, ${VAR} and ~ in base_path are expanded; an unset variable stays as written', () => {
    const text = [
      'a:',
      '    base_path: $MODELS_ROOT/a',
      '    is_default: true',
      '    loras: loras',
      'b:',
      '    base_path: ${MODELS_ROOT}/b/',
      '    vae: vae/',
      'c:',
      '    base_path: ~/models',
      '    checkpoints: ckpt',
      'd:',
      '    base_path: $NOT_SET/d',
      '    gligen: g',
      ''
    ].join('\n')
    const warnings: string[] = []
    const roots = parse(text, { MODELS_ROOT: '/mnt/disk' }, warnings)
    expect(roots.map((r) => r.dir)).toEqual([
      '/mnt/disk/a/loras',
      '/mnt/disk/b/vae',
      '/home/u/models/ckpt',
      '/home/u/ComfyUI/$NOT_SET/d/g'
    ])
    // With is_default a download goes to the expanded folder, not a literal "$MODELS_ROOT".
    expect(placeFolder('/home/u/ComfyUI/models', 'loras/flux', roots)).toEqual({
      root: '/mnt/disk/a/loras',
      parts: ['flux'],
      extra: true
    })
    expect(warnings).toEqual([expect.stringMatching(/\$NOT_SET in base_path is not set/)])
  })

  it('a path line is joined as written (ComfyUI expands only base_path), with a warning', () => {
    const warnings: string[] = []
    const roots = parse(
      ['s:', '    base_path: /data', '    loras: $HOME/loras', '    vae: ~/vae', ''].join('\n'),
      { HOME: '/home/u' },
      warnings
    )
    expect(roots.map((r) => r.dir)).toEqual(['/data/$HOME/loras', '/data/~/vae'])
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toMatch(/only in base_path/)
  })
})

describe('is_default as PyYAML and Python read it', () => {
  const isDefault = (v: string): boolean =>
    parse(['s:', '    base_path: /d', `    is_default: ${v}`, '    loras: l', ''].join('\n'))[0]!
      .isDefault
  it.each([
    ['true', true],
    ['yes', true],
    ['Yes', true],
    ['on', true],
    ['1', true],
    ['"true"', true],
    ['"false"', true], // a non-empty string: Python's `if is_default:` takes it
    ['false', false],
    ['no', false],
    ['off', false],
    ['0', false],
    ['""', false],
    ['~', false]
  ])('is_default: %s → %s', (v, want) => {
    expect(isDefault(v)).toBe(want)
  })
})

describe('t2i_adapter and trailing slashes', () => {
  it('a t2i_adapter key is its own kind: controlnet downloads never go to it', () => {
    const roots = parse(
      ['s:', '    base_path: /data/', '    is_default: true', '    t2i_adapter: t2i/', ''].join(
        '\n'
      )
    )
    expect(roots).toEqual([{ folder: 't2i_adapter', dir: '/data/t2i', isDefault: true }])
    expect(chooseRoot('controlnet', roots)).toBeUndefined()
    expect(placeFolder('/c/models', 'controlnet', roots)).toEqual({
      root: '/c/models',
      parts: ['controlnet'],
      extra: false
    })
  })

  it('listed roots lose their trailing slash, as os.path.normpath drops it', () => {
    const roots = parse(
      ['s:', '    base_path: /data//x/', '    loras: |', '        a/', '        /abs/b//', ''].join(
        '\n'
      )
    )
    expect(roots.map((r) => r.dir)).toEqual(['/data/x/a', '/abs/b'])
  })
})
