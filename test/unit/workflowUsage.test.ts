// What a workflow needs, decided as ComfyUI's frontend decides it, on real
// workflow templates from Comfy-Org (test/fixtures/workflows/comfy-org): muted
// and bypassed nodes, nodes inside a muted or bypassed subgraph node, and
// subgraph definitions no node uses need nothing; a properties.models entry
// counts only when a widget of its node selects it; a top-level models entry
// only when a node uses it; built-in loader options are no files. What is left
// out is listed apart as "not used" and never offered for download.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { compactWorkflow, parseWorkflow } from '../../src/shared/workflow/parseWorkflow'
import { checkWorkflow } from '../../src/main/models/workflowCheck'
import { loadCatalog } from '../../src/main/models/catalog'

type Doc = { nodes: Node[]; definitions?: { subgraphs: { nodes: Node[] }[] }; models?: unknown[] }
type Node = {
  id: number
  type: string
  mode: number
  widgets_values?: unknown[]
  properties?: Record<string, unknown>
}

const template = (n: string): Doc =>
  JSON.parse(readFileSync(new URL(`../fixtures/workflows/comfy-org/${n}`, import.meta.url), 'utf8'))
const parse = (d: Doc) => parseWorkflow(JSON.stringify(d))
const needed = (d: Doc) => parse(d).models.map((m) => `${m.directory}/${m.name}`)
const unused = (d: Doc) => parse(d).unused.map((m) => [`${m.directory}/${m.name}`, m.reason])
const node = (d: Doc, id: number): Node => d.nodes.find((n) => n.id === id)!

const LOTUS = [
  'vae/vae-ft-mse-840000-ema-pruned.safetensors',
  'diffusion_models/lotus-depth-d-v1-1.safetensors'
]
const QWEN = [
  'text_encoders/qwen_2.5_vl_7b_fp8_scaled.safetensors',
  'vae/qwen_image_vae.safetensors',
  'controlnet/Qwen-Image-InstantX-ControlNet-Union.safetensors',
  'diffusion_models/qwen_image_fp8_e4m3fn.safetensors'
]
const LIGHTNING = 'loras/Qwen-Image-Lightning-4steps-V1.0.safetensors'

describe('image_qwen_image_instantx_controlnet (a subgraph, a bypassed LoRA)', () => {
  it('needs the models of its active subgraph; the bypassed LoRA is not used', () => {
    const d = template('image_qwen_image_instantx_controlnet.json')
    expect(needed(d).sort()).toEqual([...QWEN, ...LOTUS].sort())
    expect(unused(d)).toEqual([[LIGHTNING, 'its node is bypassed']])
  })

  it('a bypassed or muted subgraph node: nothing inside it is needed', () => {
    const d = template('image_qwen_image_instantx_controlnet.json')
    node(d, 106).mode = 4
    expect(needed(d).sort()).toEqual([...QWEN].sort())
    expect(unused(d)).toEqual(
      expect.arrayContaining(LOTUS.map((m) => [m, 'its subgraph node is bypassed']))
    )
    node(d, 106).mode = 2
    expect(unused(d)).toEqual(
      expect.arrayContaining(LOTUS.map((m) => [m, 'its subgraph node is muted']))
    )
  })

  it('a subgraph definition no node instantiates needs nothing', () => {
    const d = template('image_qwen_image_instantx_controlnet.json')
    d.nodes = d.nodes.filter((n) => n.id !== 106)
    expect(needed(d).sort()).toEqual([...QWEN].sort())
    expect(unused(d)).toEqual(
      expect.arrayContaining(LOTUS.map((m) => [m, 'it is in a subgraph the workflow does not use']))
    )
  })

  it('a muted loader (mode 2) needs nothing', () => {
    const d = template('image_qwen_image_instantx_controlnet.json')
    node(d, 84).mode = 2
    expect(needed(d)).not.toContain('controlnet/Qwen-Image-InstantX-ControlNet-Union.safetensors')
    expect(unused(d)).toContainEqual([
      'controlnet/Qwen-Image-InstantX-ControlNet-Union.safetensors',
      'its node is muted'
    ])
  })
})

describe('lora and flux1_dev_uso_reference_image_gen', () => {
  it('lora: the bypassed LoRA is left out, the active one and the checkpoint are needed', () => {
    const d = template('lora.json')
    expect(needed(d).sort()).toEqual([
      'checkpoints/dreamshaper_8.safetensors',
      'loras/blindbox_v1_mix.safetensors'
    ])
    expect(unused(d)).toEqual([['loras/MoXinV1.safetensors', 'its node is bypassed']])
  })

  it('lora: a properties.models entry its widgets do not select is not needed', () => {
    const d = template('lora.json')
    node(d, 11).widgets_values![0] = 'another_lora.safetensors'
    expect(needed(d)).toContain('loras/another_lora.safetensors')
    expect(needed(d)).not.toContain('loras/blindbox_v1_mix.safetensors')
    expect(unused(d)).toContainEqual([
      'loras/blindbox_v1_mix.safetensors',
      'its node lists it but does not select it'
    ])
  })

  it('uso: bypassed copies and bypassed subgraph nodes leave every model needed once', () => {
    const d = template('flux1_dev_uso_reference_image_gen.json')
    expect(needed(d).sort()).toEqual([
      'checkpoints/flux1-dev-fp8.safetensors',
      'clip_vision/sigclip_vision_patch14_384.safetensors',
      'loras/uso-flux1-dit-lora-v1.safetensors',
      'model_patches/uso-flux1-projector-v1.safetensors'
    ])
    expect(parse(d).unused).toEqual([])
  })
})

describe("ComfyUI_frontend's bypassed-subgraph fixture", () => {
  it('a loader inside a bypassed subgraph and a workflow-level entry only it names: nothing needed, nothing downloaded', () => {
    const d = template('bypassedSubgraphUnmatchedModel.json')
    expect(needed(d)).toEqual([])
    expect(
      unused(d)
        .map(([m]) => m)
        .sort()
    ).toEqual(['checkpoints/rare_model.safetensors', 'checkpoints/some_other_model.safetensors'])
    const check = checkWorkflow(
      parse(d),
      { models: [], partials: [], extraRoots: [], warning: null },
      loadCatalog()
    )
    expect([...check.missing, ...check.unresolved, ...check.present]).toEqual([])
    expect(check.unused.map((i) => [i.name, i.url ?? null])).toEqual(
      expect.arrayContaining([['rare_model.safetensors', 'https://example.com/rare']])
    )
  })

  it('the same entry is needed once an active node selects it', () => {
    const d = template('bypassedSubgraphUnmatchedModel.json')
    d.nodes.push({
      id: 3,
      type: 'CheckpointLoaderSimple',
      mode: 0,
      widgets_values: ['rare_model.safetensors']
    })
    expect(parse(d).models).toEqual([
      expect.objectContaining({ name: 'rare_model.safetensors', url: 'https://example.com/rare' })
    ])
  })

  it('a workflow-level entry no node names is not needed', () => {
    const d = template('lora.json')
    d.models = [{ name: 'orphan.safetensors', directory: 'loras', url: 'https://example.com/o' }]
    expect(unused(d)).toContainEqual([
      'loras/orphan.safetensors',
      'the workflow lists it, but no node uses it'
    ])
  })
})

describe('built-in loader options and the compact form', () => {
  it('pixel_space and the TAESD decoders are no files; a video TAE is a vae_approx file', () => {
    const vae = (v: string): Node => ({ id: 1, type: 'VAELoader', mode: 0, widgets_values: [v] })
    for (const v of ['pixel_space', 'taesd', 'taesdxl', 'taesd3', 'taef1'])
      expect(needed({ nodes: [vae(v)] })).toEqual([])
    expect(needed({ nodes: [vae('taehv.safetensors')] })).toEqual(['vae_approx/taehv.safetensors'])
    // Loaders of the folders ComfyUI added lately.
    const bg: Node = {
      id: 3,
      type: 'LoadBackgroundRemovalModel',
      mode: 0,
      widgets_values: ['birefnet.safetensors']
    }
    expect(needed({ nodes: [bg] })).toEqual(['background_removal/birefnet.safetensors'])
    // A CheckpointLoader's config is a file of configs only when ComfyUI lists it there.
    const ckpt: Node = {
      id: 2,
      type: 'CheckpointLoader',
      mode: 0,
      widgets_values: ['v1-inference.yaml', 'sd15.ckpt']
    }
    expect(needed({ nodes: [ckpt] })).toEqual([
      'configs/v1-inference.yaml',
      'checkpoints/sd15.ckpt'
    ])
  })

  it('the compact form the dashboard sends keeps what is not used, with its reason', () => {
    const p = parse(template('image_qwen_image_instantx_controlnet.json'))
    const back = parseWorkflow(compactWorkflow(p))
    expect(back.models.map((m) => m.name).sort()).toEqual(p.models.map((m) => m.name).sort())
    expect(back.unused.map((m) => [m.name, m.reason])).toEqual([
      ['Qwen-Image-Lightning-4steps-V1.0.safetensors', 'its node is bypassed']
    ])
  })
})
