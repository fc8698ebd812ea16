// Resolving what users paste — Hugging Face file/repo links, Civitai pages,
// download links and AIRs, any other URL — against loopback stand-ins that
// answer with the Hub's and Civitai's real headers and JSON, reached through
// HF_ENDPOINT / PODPULL_CIVITAI_ENDPOINT. Each error case gives its message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hubEnv, startHubServers, type HubServers } from '../harness/hubServer'
import { startModelServer, type ModelServer, type ServedFile } from '../harness/modelServer'
import { resolveSource } from '../../src/main/sources/resolve'
import { authFor, authHint } from '../../src/main/sources/tokens'

let cdn: ModelServer
let hub: HubServers
let env: NodeJS.ProcessEnv
let flux: ServedFile, vae: ServedFile, lora: ServedFile, loraFp32: ServedFile
const tokens: { hf?: string; civitai?: string } = {}
const opts = () => ({
  env,
  auth: (u: URL) => authFor(u, (k) => tokens[k], env),
  authHint: (u: URL) => authHint(u, env)
})

beforeAll(async () => {
  cdn = await startModelServer()
  hub = await startHubServers(cdn)
  env = hubEnv(hub)
  flux = cdn.addFile('/cdn/flux1-dev.safetensors', { size: 300_000, seed: 'flux' })
  vae = cdn.addFile('/cdn/ae.safetensors', { size: 20_000, seed: 'vae' })
  lora = cdn.addFile('/cdn/detail.safetensors', { size: 50_000, seed: 'lora' })
  loraFp32 = cdn.addFile('/cdn/detail32.safetensors', { size: 90_000, seed: 'lora32' })
  hub.addRepo({
    id: 'Comfy-Org/flux1',
    files: [
      { path: 'README.md', text: '# flux' },
      { path: 'split_files/diffusion_models/flux1-dev.safetensors', cdn: flux },
      { path: 'split_files/vae/ae.safetensors', cdn: vae }
    ]
  })
  hub.addRepo({
    id: 'black-forest-labs/FLUX.1-dev',
    gated: true,
    token: 'hf_ok',
    files: [{ path: 'ae.safetensors', cdn: vae }]
  })
  hub.addCivitaiModel({
    id: 100,
    name: 'Detail Tweaker',
    type: 'LORA',
    versions: [
      {
        id: 200,
        name: 'v2',
        baseModel: 'SDXL 1.0',
        files: [
          { cdn: lora, name: 'detail_tweaker_xl.safetensors', primary: true },
          {
            cdn: loraFp32,
            name: 'detail_tweaker_xl_fp32.safetensors',
            primary: false,
            metadata: { fp: 'fp32', size: 'full' }
          }
        ]
      },
      {
        id: 199,
        name: 'v1',
        baseModel: 'SD 1.5',
        files: [{ cdn: lora, name: 'detail_v1.safetensors' }]
      }
    ]
  })
  hub.addCivitaiModel({
    id: 101,
    name: 'Members Only',
    type: 'Checkpoint',
    versions: [
      {
        id: 201,
        name: 'v1',
        baseModel: 'Flux.1 D',
        token: 'civ_ok',
        files: [{ cdn: flux, name: 'members.safetensors' }]
      }
    ]
  })
  hub.addCivitaiModel({
    id: 102,
    name: 'Soon',
    type: 'LORA',
    versions: [
      {
        id: 202,
        name: 'v1',
        baseModel: 'Pony',
        token: 'civ_ok',
        earlyAccessEndsAt: '2099-01-01T00:00:00.000Z',
        files: [{ cdn: lora, name: 'soon.safetensors' }]
      }
    ]
  })
})
afterAll(async () => {
  await hub?.close()
  await cdn?.close()
})

describe('Hugging Face', () => {
  it('a pasted huggingface.co blob link is fetched from HF_ENDPOINT: size and sha256 from one HEAD, folder from the path', async () => {
    const before = cdn.requestsFor(vae.path).length
    const r = await resolveSource(
      'https://huggingface.co/Comfy-Org/flux1/blob/main/split_files/vae/ae.safetensors',
      opts()
    )
    expect(r.source).toBe('huggingface')
    expect(r.files[r.selected]).toMatchObject({
      url: `${hub.hfUrl}/Comfy-Org/flux1/resolve/main/split_files/vae/ae.safetensors`,
      filename: 'ae.safetensors',
      size: vae.size,
      sha256: vae.sha256,
      suggestedFolder: 'vae'
    })
    // The HEAD did not follow the redirect: the CDN saw nothing.
    expect(cdn.requestsFor(vae.path).length).toBe(before)
    expect(hub.log.at(-1)).toMatchObject({ method: 'HEAD' })
  })

  it('hf.co short links resolve like full links', async () => {
    const r = await resolveSource(
      'https://hf.co/Comfy-Org/flux1/resolve/main/split_files/diffusion_models/flux1-dev.safetensors',
      opts()
    )
    expect(r.files[0]).toMatchObject({
      size: flux.size,
      sha256: flux.sha256,
      suggestedFolder: 'diffusion_models'
    })
  })

  it('a repo link lists its model files for a picker, with sizes and hashes from the tree', async () => {
    const r = await resolveSource('https://huggingface.co/Comfy-Org/flux1', opts())
    expect(r.selected).toBe(-1)
    expect(r.files.map((f) => [f.label, f.suggestedFolder, f.size, f.sha256])).toEqual([
      [
        'split_files/diffusion_models/flux1-dev.safetensors',
        'diffusion_models',
        flux.size,
        flux.sha256
      ],
      ['split_files/vae/ae.safetensors', 'vae', vae.size, vae.sha256]
    ])
  })

  it('a gated repo names the licence page and the token', async () => {
    await expect(
      resolveSource(
        'https://huggingface.co/black-forest-labs/FLUX.1-dev/resolve/main/ae.safetensors',
        opts()
      )
    ).rejects.toMatchObject({
      code: 'auth',
      message: expect.stringMatching(
        /accept the licence at https:\/\/huggingface.co\/black-forest-labs\/FLUX.1-dev and set a Hugging Face token/
      )
    })
    tokens.hf = 'hf_ok'
    try {
      const r = await resolveSource(
        'https://huggingface.co/black-forest-labs/FLUX.1-dev/resolve/main/ae.safetensors',
        opts()
      )
      expect(r.files[0]!.sha256).toBe(vae.sha256)
    } finally {
      delete tokens.hf
    }
  })

  it('a missing or private repo and a missing file say so', async () => {
    await expect(
      resolveSource('https://huggingface.co/nobody/nothing/resolve/main/x.safetensors', opts())
    ).rejects.toMatchObject({
      code: 'auth',
      message: expect.stringMatching(/nobody\/nothing was not found, or it is private/)
    })
    await expect(
      resolveSource('https://huggingface.co/Comfy-Org/flux1/resolve/main/nope.safetensors', opts())
    ).rejects.toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/nope.safetensors was not found in Comfy-Org\/flux1/)
    })
  })
})

describe('Civitai', () => {
  it('a model page gives its latest version: primary file, size, SHA256, type → loras, base model', async () => {
    const r = await resolveSource('https://civitai.com/models/100/detail-tweaker', opts())
    expect(r).toMatchObject({
      source: 'civitai',
      title: 'Detail Tweaker · v2',
      modelType: 'LORA',
      baseModel: 'SDXL 1.0'
    })
    expect(r.files).toHaveLength(2)
    expect(r.files[r.selected]).toMatchObject({
      filename: 'detail_tweaker_xl.safetensors',
      size: lora.size,
      sha256: lora.sha256,
      suggestedFolder: 'loras',
      primary: true
    })
    expect(r.files[r.selected]!.url.startsWith(`${hub.civitaiUrl}/api/download/models/200?`)).toBe(
      true
    )
  })

  it('modelVersionId, download links with a file query, and AIR URNs pick the version and file', async () => {
    const v1 = await resolveSource('https://civitai.com/models/100?modelVersionId=199', opts())
    expect(v1.files[v1.selected]!.filename).toBe('detail_v1.safetensors')
    const full = await resolveSource(
      'https://civitai.com/api/download/models/200?type=Model&format=SafeTensor&size=full&fp=fp32',
      opts()
    )
    expect(full.files[full.selected]).toMatchObject({
      filename: 'detail_tweaker_xl_fp32.safetensors',
      size: loraFp32.size
    })
    const air = await resolveSource('urn:air:sdxl:lora:civitai:100@200', opts())
    expect(air.files[air.selected]!.filename).toBe('detail_tweaker_xl.safetensors')
  })

  it('reason=download-auth → needs a Civitai API token; with the token it resolves', async () => {
    await expect(resolveSource('https://civitai.com/models/101', opts())).rejects.toMatchObject({
      code: 'auth',
      message: expect.stringMatching(/needs a Civitai API token/)
    })
    tokens.civitai = 'civ_ok'
    try {
      const r = await resolveSource('https://civitai.com/models/101', opts())
      expect(r.files[0]).toMatchObject({ suggestedFolder: 'checkpoints', sha256: flux.sha256 })
    } finally {
      delete tokens.civitai
    }
  })

  it('a token pasted in the link is used for Civitai only and never echoed back', async () => {
    const r = await resolveSource('https://civitai.com/models/101?token=civ_ok', opts())
    expect(r.files[0]!.sha256).toBe(flux.sha256)
    expect(JSON.stringify(r)).not.toContain('civ_ok')
    const cdnHops = cdn.requestsFor(flux.path).filter((q) => q.host === 'second')
    expect(cdnHops.every((q) => !q.headers.authorization)).toBe(true)
  })

  it('early access says so, with the date', async () => {
    await expect(resolveSource('https://civitai.com/models/102', opts())).rejects.toMatchObject({
      code: 'auth',
      message: expect.stringMatching(/early access on Civitai until 2099-01-01/)
    })
  })

  it('an unknown version says Civitai has none', async () => {
    await expect(
      resolveSource('https://civitai.com/api/download/models/999', opts())
    ).rejects.toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/Civitai has no version 999/)
    })
  })
})

describe('any other URL', () => {
  it('name from Content-Disposition, size from the ranged answer', async () => {
    const f = cdn.addFile('/other/dl', {
      size: 12345,
      contentDisposition: 'attachment; filename="4x-UltraSharp.pth"'
    })
    const r = await resolveSource(f.url, opts())
    expect(r.files[0]).toMatchObject({
      filename: '4x-UltraSharp.pth',
      size: 12345,
      suggestedFolder: 'upscale_models'
    })
  })

  it('something that is no link is refused clearly', async () => {
    await expect(resolveSource('ftp://example.com/x.safetensors', opts())).rejects.toMatchObject({
      code: 'bad-request',
      message: expect.stringMatching(/not a link PodPull can use/)
    })
  })
})
