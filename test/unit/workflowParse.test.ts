// The workflow parser on realistic ComfyUI files: UI format with a subgraph,
// API format, widget values only, inside PNG (tEXt, iTXt) and WebP (EXIF);
// unsafe names refused; malformed or huge files give a clear error. And the
// comparison with a target's inventory and the catalog.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { compactWorkflow, parseWorkflow } from '../../src/shared/workflow/parseWorkflow'
import { workflowTextOf } from '../../src/shared/workflow/imageMetadata'
import { downloadArgsFor } from '../../src/shared/workflow/downloadArgs'
import { checkWorkflow } from '../../src/main/models/workflowCheck'
import { loadCatalog } from '../../src/main/models/catalog'
import { pngWithWorkflow, webpWithWorkflow } from '../support/workflowImages'

const fixture = (n: string): string =>
  readFileSync(new URL(`../fixtures/workflows/${n}`, import.meta.url), 'utf8')
const ui = fixture('flux_subgraph_ui.json')
const api = fixture('sdxl_api.json')
const summary = (w: ReturnType<typeof parseWorkflow>) =>
  w.models.map((m) => [m.directory, m.name, Boolean(m.url), m.sha256 ?? null])

describe('parseWorkflow', () => {
  it('UI format: models in subgraph nodes, properties.models, top-level models and widget values', () => {
    const w = parseWorkflow(ui)
    expect(w.format).toBe('ui')
    // In the order the nodes need them; clip_l's URL comes from the top-level
    // models list, which counts because the DualCLIPLoader uses it.
    expect(summary(w)).toEqual([
      ['diffusion_models', 'flux1-dev-fp8.safetensors', true, null],
      [
        'vae',
        'ae.safetensors',
        true,
        'afc8e28272cd15db3919bacdb6918ce9c1ed22e96cb12c4d5ed0fba823529e38'
      ],
      ['text_encoders', 'clip_l.safetensors', true, null],
      ['text_encoders', 't5xxl_fp16.safetensors', false, null],
      ['loras', 'flux/film_grain.safetensors', false, null]
    ])
    expect(w.unused).toEqual([])
    expect(w.models.find((m) => m.name === 'ae.safetensors')!.nodes).toEqual(['VAELoader'])
  })

  it('API format: loader inputs by name; an unknown node naming a model file has no folder', () => {
    const w = parseWorkflow(api)
    expect(w.format).toBe('api')
    expect(summary(w)).toEqual([
      ['checkpoints', 'sd_xl_base_1.0.safetensors', false, null],
      ['loras', 'sdxl/detail_tweaker_xl.safetensors', false, null],
      ['vae', 'sdxl_vae.safetensors', false, null],
      ['upscale_models', '4x-UltraSharp.pth', false, null],
      [null, 'ip-adapter_sdxl.safetensors', false, null]
    ])
  })

  it('reads the workflow out of PNG (tEXt and iTXt) and WebP (EXIF) images', () => {
    const png = pngWithWorkflow({ prompt: api, workflow: ui })
    expect(parseWorkflow(workflowTextOf(png)).format).toBe('ui')
    expect(parseWorkflow(workflowTextOf(pngWithWorkflow({ prompt: api }, true))).format).toBe('api')
    const webp = webpWithWorkflow(ui, api)
    expect(summary(parseWorkflow(workflowTextOf(webp)))).toEqual(summary(parseWorkflow(ui)))
    expect(() => workflowTextOf(pngWithWorkflow({ parameters: 'a1111 text' }))).toThrow(
      /no ComfyUI workflow/
    )
  })

  it('names or folders that leave the models folder are refused, not listed', () => {
    const w = parseWorkflow(
      JSON.stringify({
        nodes: [
          { id: 1, type: 'VAELoader', widgets_values: ['../../.ssh/authorized_keys.pt'] },
          {
            id: 2,
            type: 'X',
            properties: {
              models: [{ name: 'a.safetensors', directory: '../../etc', url: 'https://x/a' }]
            }
          },
          { id: 3, type: 'VAELoader', widgets_values: ['/etc/passwd.safetensors'] }
        ]
      })
    )
    expect(w.models).toEqual([])
    expect(w.refused.map((r) => r.reason)).toEqual([
      expect.stringMatching(/not a plain name inside the models folder/),
      expect.stringMatching(/The folder "..\/..\/etc" leaves the models folder/),
      expect.stringMatching(/not a plain name/)
    ])
  })

  it('malformed, foreign or huge files give a clear error', () => {
    expect(() => parseWorkflow('{"nodes": [')).toThrow(
      /not a ComfyUI workflow: the JSON does not parse/
    )
    expect(() => parseWorkflow('{"hello": "world"}')).toThrow(/neither "nodes"/)
    expect(() => parseWorkflow('[1,2]')).toThrow(/expected a JSON object/)
    expect(() => parseWorkflow(' '.repeat((32 << 20) + 1))).toThrow(/larger than 32 MiB/)
  })
})

describe('compactWorkflow', () => {
  it('keeps every model, folder, URL and hash, and parses back to the same list', () => {
    const w = parseWorkflow(ui)
    const back = parseWorkflow(compactWorkflow(w))
    expect(back.models.map(({ nodes: _n, ...m }) => m)).toEqual(
      w.models.map(({ nodes: _n, ...m }) => m)
    )
    expect(compactWorkflow(w).length).toBeLessThan(ui.length / 4)
  })
})

describe('checkWorkflow', () => {
  it('present, missing with a source (workflow URL or catalog), unresolved with searches', () => {
    const inv = {
      models: [
        {
          folder: 'unet',
          name: 'flux1-dev-fp8.safetensors',
          size: 1,
          mtime: 0,
          path: '/m/unet/flux1-dev-fp8.safetensors'
        }
      ],
      partials: [],
      extraRoots: [],
      warning: null
    }
    const c = checkWorkflow(parseWorkflow(ui), inv, loadCatalog())
    // unet is the legacy name of diffusion_models: it counts.
    expect(c.present.map((i) => i.path)).toEqual(['/m/unet/flux1-dev-fp8.safetensors'])
    expect(c.missing.map((i) => [i.name, i.source])).toEqual([
      ['ae.safetensors', 'workflow'],
      ['clip_l.safetensors', 'workflow'],
      ['t5xxl_fp16.safetensors', 'catalog']
    ])
    expect(c.unresolved.map((i) => i.name)).toEqual(['flux/film_grain.safetensors'])
    expect(c.unresolved[0]!.search!.civitai).toBe(
      'https://civitai.com/search/models?query=film_grain'
    )
    expect(downloadArgsFor({ ...c.missing[0]!, name: 'flux/ae.safetensors' })).toMatchObject({
      folder: 'vae/flux',
      filename: 'ae.safetensors',
      sha256: 'afc8e28272cd15db3919bacdb6918ce9c1ed22e96cb12c4d5ed0fba823529e38'
    })
  })
})

describe('catalog', () => {
  it('every set names real ComfyUI folders, https URLs whose file is the named file', () => {
    const cat = loadCatalog()
    expect(cat.sets.map((s) => s.id)).toEqual(
      expect.arrayContaining(['flux1-dev', 'flux1-schnell', 'sdxl-base', 'sd15', 'upscalers'])
    )
    for (const f of cat.sets.flatMap((s) => s.files))
      expect(decodeURIComponent(new URL(f.url).pathname.split('/').pop()!)).toBe(f.name)
    expect(() =>
      loadCatalog({
        version: 1,
        sets: [
          {
            id: 'x',
            name: 'x',
            description: '',
            licence: '',
            gated: false,
            page: 'https://x',
            files: [{ name: 'a', folder: '../x', url: 'https://x/a', size: null, sha256: null }]
          }
        ]
      })
    ).toThrow()
  })
})
