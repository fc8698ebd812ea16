// What the resolvers make of Civitai's and Hugging Face's answers when they
// name one file of many, when they are malformed, and when a download link in
// them tries to lead elsewhere — against the loopback Hub and Civitai fakes.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHubServers, type HubServers } from '../harness/hubServer'
import { startModelServer, type ModelServer, type ServedFile } from '../harness/modelServer'
import { fileSha, startEngine } from '../support/engine'
import { resolveSource } from '../../src/main/sources/resolve'
import { authFor, authHint } from '../../src/main/sources/tokens'
import { plausibleSize } from '../../src/main/sources/hubJson'

let cdn: ModelServer
let hub: HubServers
let env: NodeJS.ProcessEnv
let fp16: ServedFile, fp32: ServedFile, vae: ServedFile
let dir: string
const opts = () => ({
  env,
  auth: (u: URL) => authFor(u, () => undefined, env),
  authHint: (u: URL) => authHint(u, env)
})

beforeAll(async () => {
  cdn = await startModelServer()
  hub = await startHubServers(cdn)
  env = { HF_ENDPOINT: hub.hfUrl, PODPULL_CIVITAI_ENDPOINT: hub.civitaiUrl }
  fp16 = cdn.addFile('/cdn/pick16.safetensors', { size: 40_000, seed: 'pick16' })
  fp32 = cdn.addFile('/cdn/pick32.safetensors', { size: 70_000, seed: 'pick32' })
  vae = cdn.addFile('/cdn/pickvae.safetensors', { size: 30_000, seed: 'pickvae' })
  hub.addCivitaiModel({
    id: 700,
    name: 'Many Files',
    type: 'Checkpoint',
    versions: [
      {
        id: 800,
        name: 'v1',
        baseModel: 'SDXL 1.0',
        files: [
          { cdn: fp16, name: 'many_fp16.safetensors', primary: true },
          {
            cdn: fp32,
            name: 'many_fp32.safetensors',
            metadata: { fp: 'fp32', size: 'full', format: 'SafeTensor' }
          },
          { cdn: vae, name: 'many_vae.safetensors', type: 'VAE' }
        ]
      }
    ]
  })
  hub.addCivitaiModel({
    id: 703,
    name: 'Moved',
    type: 'LORA',
    versions: [
      {
        id: 803,
        name: 'v1',
        baseModel: 'SDXL 1.0',
        files: [{ cdn: fp16, name: 'moved.safetensors' }]
      }
    ]
  })
  hub.addRepo({ id: 'org/repo', files: [{ path: 'm.safetensors', cdn: fp16 }] })
  dir = mkdtempSync(join(tmpdir(), 'hub-answers-'))
})
afterAll(async () => {
  await hub?.close()
  await cdn?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function downloaded(url: string, name: string): Promise<string> {
  const finalPath = join(dir, name)
  await startEngine({ url } as ServedFile, finalPath).result
  return fileSha(finalPath)
}

describe('Civitai links that pick one file of a version', () => {
  it('type/format/size/fp name the file: its name, folder and bytes', async () => {
    const r = await resolveSource(
      'https://civitai.com/api/download/models/800?type=Model&format=SafeTensor&size=full&fp=fp32',
      opts()
    )
    const f = r.files[r.selected]!
    expect(f).toMatchObject({
      filename: 'many_fp32.safetensors',
      suggestedFolder: 'checkpoints',
      sha256: fp32.sha256
    })
    expect(await downloaded(f.url, 'a.safetensors')).toBe(fp32.sha256)
  })

  it('type=VAE picks the VAE file, into vae/', async () => {
    const r = await resolveSource('https://civitai.com/api/download/models/800?type=VAE', opts())
    const f = r.files[r.selected]!
    expect(f).toMatchObject({ filename: 'many_vae.safetensors', suggestedFolder: 'vae' })
    expect(await downloaded(f.url, 'b.safetensors')).toBe(vae.sha256)
  })

  it('the fileId form names the file by its id', async () => {
    const r = await resolveSource('https://civitai.com/api/download/models/800?fileId=8001', opts())
    const f = r.files[r.selected]!
    expect(f).toMatchObject({ filename: 'many_fp32.safetensors', sha256: fp32.sha256 })
    expect(await downloaded(f.url, 'c.safetensors')).toBe(fp32.sha256)
  })

  it('a file the version does not have is refused, not swapped for another', async () => {
    await expect(
      resolveSource('https://civitai.com/api/download/models/800?fileId=999', opts())
    ).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/no file/) })
    await expect(
      resolveSource('https://civitai.com/api/download/models/800?fp=bf16', opts())
    ).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/fp=bf16/) })
  })
})

describe('bad hub JSON is one clear sentence', () => {
  const version = (files: unknown) => ({
    id: 801,
    modelId: 701,
    name: 'v1',
    model: { name: 'Broken', type: 'LORA' },
    files
  })

  it.each([
    ['files is not a list', version({ not: 'a list' })],
    ['a file name is not text', version([{ name: 42, sizeKB: 1 }])],
    ['the version is not an object', 'oops']
  ])('Civitai: %s', async (_what, body) => {
    hub.answerJson('/api/v1/model-versions/801', body)
    const err = await resolveSource('https://civitai.com/api/download/models/801', opts()).then(
      () => undefined,
      (e: Error & { code?: string }) => e
    )
    expect(err).toMatchObject({ code: 'http' })
    expect(err!.message).toMatch(
      /^Civitai's answer for version 801 is not in the form PodPull reads/
    )
    expect(err!.message).not.toMatch(/is not a function|undefined|TypeError/)
  })

  it('Hugging Face: a tree entry without a path', async () => {
    hub.answerJson('/api/models/org/broken/tree/main', [{ type: 'file', path: 7 }])
    await expect(resolveSource('https://huggingface.co/org/broken', opts())).rejects.toMatchObject({
      code: 'http',
      message: expect.stringMatching(/file list of org\/broken is not in the form/)
    })
  })

  it('a broken %-escape in a Hugging Face link', async () => {
    await expect(
      resolveSource('https://huggingface.co/org/repo/resolve/main/%E0%A4%A.safetensors', opts())
    ).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/%-escape/) })
  })

  it('negative and absurd sizes are unknown', async () => {
    hub.answerJson('/api/v1/model-versions/803', {
      ...version([
        { name: 'neg.safetensors', sizeKB: -5 },
        { name: 'huge.safetensors', sizeKB: 1e300 }
      ]),
      id: 803
    })
    const r = await resolveSource('https://civitai.com/api/download/models/803', opts())
    expect(r.files.map((f) => f.size)).toEqual([null, null])
    hub.answerJson('/api/models/org/sizes/tree/main', [
      { type: 'file', path: 'a.safetensors', size: -1 },
      { type: 'file', path: 'b.safetensors', size: 10, lfs: { size: 2 ** 60 } }
    ])
    const h = await resolveSource('https://huggingface.co/org/sizes', opts())
    expect(h.files.map((f) => f.size)).toEqual([null, 10])
    expect([plausibleSize('12'), plausibleSize(-1), plausibleSize(1.5)]).toEqual([12, null, null])
  })
})

describe('a Civitai downloadUrl is read against the configured endpoint', () => {
  it.each([
    'x:@127.0.0.2/api/download/models/803',
    'https://evil.example@127.0.0.2:1/api/download/models/803',
    '//127.0.0.2/api/download/models/803'
  ])('%s stays on the endpoint', async (downloadUrl) => {
    hub.answerJson('/api/v1/model-versions/803', {
      id: 803,
      modelId: 703,
      model: { name: 'Moved', type: 'LORA' },
      files: [{ name: 'moved.safetensors', sizeKB: 1, downloadUrl }]
    })
    const before = hub.log.length
    const r = await resolveSource('urn:air:sdxl:lora:civitai:703@803', opts())
    expect(r.files[0]!.url).toBe(`${hub.civitaiUrl}/api/download/models/803`)
    // The access check asked the endpoint, nowhere else.
    expect(hub.log.slice(before).map((q) => q.path)).toContain('/api/download/models/803')
  })
})
