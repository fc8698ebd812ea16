// A pasted Hugging Face or Civitai link described before downloading, against
// the loopback hubs: name, kind, base model, size, folder, gated / needs a
// token, Civitai's trigger words and pictures; the pictures fetched by main
// through the image route (size cap, images only, bounded disk cache, no
// token to the image host) and served by `podpull serve` on its own origin.
import { mkdtempSync, readdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hubEnv, startHubServers, type HubServers } from '../harness/hubServer'
import { startModelServer, type ModelServer, type ServedFile } from '../harness/modelServer'
import { pngOf } from '../harness/pictures'
import { previewLink } from '../../src/main/sources/linkPreview'
import { createHubImages, type HubImages } from '../../src/main/sources/hubImages'
import { imageIdFromRequest, MAX_IMAGE_BYTES } from '../../src/main/sources/imageRoute'
import { authFor, authHint } from '../../src/main/sources/tokens'
import { startHeadlessServer } from '../../src/main/headless/server'
import { makeTestApp } from '../support/testApp'
import { staticPageDir } from '../support/staticPage'
import { withErrorListener } from '../support/listeners'

let cdn: ModelServer
let hub: HubServers
let env: NodeJS.ProcessEnv
let images: HubImages
let cacheDir: string
let lora: ServedFile, ckpt: ServedFile, vae: ServedFile
const tokens: { hf?: string; civitai?: string } = {}
const opts = () => ({
  env,
  auth: (u: URL) => authFor(u, (k) => tokens[k], env),
  authHint: (u: URL) => authHint(u, env)
})
const civitai = (path: string) => `${hub.civitaiUrl}${path}`
const hf = (path: string) => `${hub.hfUrl}${path}`
const PNG = pngOf(48, 64, [30, 120, 200])

beforeAll(async () => {
  cdn = await startModelServer()
  hub = await startHubServers(cdn)
  env = hubEnv(hub)
  cacheDir = mkdtempSync(join(tmpdir(), 'podpull-hub-images-'))
  images = createHubImages({ cacheDir, env })
  lora = cdn.addFile('/cdn/pixel_art.safetensors', { size: 40_000, seed: 'pixel' })
  ckpt = cdn.addFile('/cdn/members.safetensors', { size: 60_000, seed: 'members' })
  vae = cdn.addFile('/cdn/ae.safetensors', { size: 20_000, seed: 'ae' })
  hub.addImage('/img/a/width=832/cover.png', { body: PNG, contentType: 'image/png' })
  hub.addImage('/img/b/width=832/second.png', { body: PNG, contentType: 'image/jpeg' })
  hub.addImage('/img/c/width=832/mature.png', { body: PNG, contentType: 'image/png' })
  hub.addCivitaiModel({
    id: 300,
    name: 'Pixel Art XL',
    type: 'LORA',
    versions: [
      {
        id: 301,
        name: 'v1.1',
        baseModel: 'SDXL 1.0',
        trainedWords: ['pixel art, ', 'pixel art', ' 8-bit'],
        images: [
          { path: '/img/a/width=832/cover.png', width: 832, height: 1216 },
          { path: '/img/c/width=832/mature.png', nsfwLevel: 8 },
          { path: '/img/b/width=832/second.png' },
          { path: '/img/d/clip.mp4', type: 'video' }
        ],
        files: [{ cdn: lora, name: 'pixel-art-xl.safetensors' }]
      }
    ]
  })
  hub.addCivitaiModel({
    id: 310,
    name: 'Members Checkpoint',
    type: 'Checkpoint',
    versions: [
      {
        id: 311,
        name: 'v2',
        baseModel: 'Flux.1 D',
        token: 'civ_ok',
        earlyAccessEndsAt: '2999-01-01T00:00:00.000Z',
        files: [{ cdn: ckpt, name: 'members.safetensors' }]
      }
    ]
  })
  hub.addRepo({
    id: 'black-forest-labs/FLUX.1-dev',
    gated: true,
    token: 'hf_ok',
    card: { license: 'other', base_model: 'black-forest-labs/FLUX.1-dev' },
    files: [{ path: 'ae.safetensors', cdn: vae }]
  })
  hub.addRepo({
    id: 'Comfy-Org/Lumina',
    card: { license: 'apache-2.0', base_model: ['a/b', 'c/d'] },
    pipelineTag: 'text-to-image',
    files: [{ path: 'split_files/vae/ae.safetensors', cdn: vae }]
  })
})
afterAll(async () => {
  await hub?.close()
  await cdn?.close()
})

describe('Civitai links', () => {
  it('says what the model is, with its trigger words and its pictures rated for everyone', async () => {
    const p = await previewLink(civitai('/models/300?modelVersionId=301'), opts(), images)
    expect(p).toMatchObject({
      name: 'Pixel Art XL',
      version: 'v1.1',
      type: 'LoRA',
      baseModel: 'SDXL 1.0',
      gated: false,
      access: 'public',
      accessNote: null,
      triggerWords: ['pixel art', '8-bit'],
      hiddenImages: 1
    })
    const f = p.resolution.files[p.resolution.selected]!
    expect(f).toMatchObject({
      filename: 'pixel-art-xl.safetensors',
      size: lora.size,
      suggestedFolder: 'loras'
    })
    // The video is no picture; the mature one is counted, never fetched.
    expect(p.images).toHaveLength(2)
    expect(p.images[0]).toEqual({
      src: expect.stringMatching(/^\/hub-image\/[0-9a-f]{32}$/),
      width: 832,
      height: 1216
    })
    expect(JSON.stringify(p)).not.toContain(hub.imagesUrl)
  })

  it('describes an early-access model and says the token it needs; with the token, access is granted', async () => {
    const p = await previewLink(civitai('/models/310'), opts(), images)
    expect(p).toMatchObject({ name: 'Members Checkpoint', type: 'Checkpoint', gated: true })
    expect(p.access).toBe('needs-token')
    expect(p.accessNote).toMatch(/early access.*Civitai API token/)
    expect(p.resolution.files[0]).toMatchObject({ size: ckpt.size, suggestedFolder: 'checkpoints' })
    tokens.civitai = 'civ_ok'
    try {
      const q = await previewLink(civitai('/models/310'), opts(), images)
      expect([q.access, q.accessNote]).toEqual(['granted', null])
    } finally {
      delete tokens.civitai
    }
  })

  it('says plainly when a model does not exist', async () => {
    await expect(previewLink(civitai('/models/999'), opts(), images)).rejects.toThrow(
      /Civitai has no model 999/
    )
  })
})

describe('Hugging Face links', () => {
  it('names the repo, its licence, base model, kind and folder', async () => {
    const p = await previewLink(
      hf('/Comfy-Org/Lumina/resolve/main/split_files/vae/ae.safetensors'),
      opts(),
      images
    )
    expect(p).toMatchObject({
      name: 'Comfy-Org/Lumina',
      version: 'main',
      type: 'VAE',
      baseModel: 'a/b, c/d',
      license: 'apache-2.0',
      gated: false,
      access: 'public',
      images: [],
      triggerWords: []
    })
    expect(p.resolution.files[0]).toMatchObject({
      size: vae.size,
      sha256: vae.sha256,
      suggestedFolder: 'vae'
    })
  })

  it('describes a gated file from the public file list and says how to get access', async () => {
    const link = hf('/black-forest-labs/FLUX.1-dev/resolve/main/ae.safetensors')
    const p = await previewLink(link, opts(), images)
    expect(p).toMatchObject({ gated: true, access: 'needs-token', license: 'other' })
    expect(p.accessNote).toMatch(/gated: accept the licence.*Hugging Face token/)
    expect(p.resolution.files[0]).toMatchObject({ size: vae.size, sha256: vae.sha256 })
    tokens.hf = 'hf_ok'
    try {
      expect((await previewLink(link, opts(), images)).access).toBe('granted')
    } finally {
      delete tokens.hf
    }
  })

  it('says when a repo or a file is not there', async () => {
    await expect(
      previewLink(hf('/nobody/nothing/resolve/main/x.safetensors'), opts(), images)
    ).rejects.toThrow(/nobody\/nothing was not found, or it is private/)
    await expect(
      previewLink(hf('/Comfy-Org/Lumina/resolve/main/missing.safetensors'), opts(), images)
    ).rejects.toThrow(/missing.safetensors was not found in Comfy-Org\/Lumina/)
  })
})

it('says when the hub cannot be reached', async () => {
  const closed = withErrorListener(createServer())
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
  const port = (closed.address() as { port: number }).port
  await new Promise((r) => closed.close(r))
  const offline = { ...env, PODPULL_CIVITAI_ENDPOINT: `http://127.0.0.1:${port}` }
  await expect(
    previewLink(`http://127.0.0.1:${port}/models/300`, { ...opts(), env: offline }, images)
  ).rejects.toThrow(`Could not reach 127.0.0.1:${port}`)
})

it('refuses links of other sites: they are checked when the download starts', async () => {
  await expect(previewLink('https://example.com/a.safetensors', opts(), images)).rejects.toThrow(
    /Only Hugging Face and Civitai links/
  )
})

describe('the image route', () => {
  const idOf = (src: string) => imageIdFromRequest(src)!

  it('fetches a registered picture once, with no token, and serves it from the disk cache after', async () => {
    tokens.civitai = 'civ_secret'
    const p = await previewLink(civitai('/models/300'), opts(), images)
    delete tokens.civitai
    const id = idOf(p.images[0]!.src)
    const before = hub.log.filter((l) => l.host === 'images').length
    const [a, b] = await Promise.all([images.get(id), images.get(id)])
    expect(a).toEqual({ mime: 'image/png', body: new Uint8Array(PNG) })
    expect(b).toEqual(a)
    const asked = hub.log.filter((l) => l.host === 'images').slice(before)
    expect(asked.map((l) => l.path)).toEqual(['/img/a/width=832/cover.png'])
    expect(hub.log.filter((l) => l.host === 'images').every((l) => !l.authorization)).toBe(true)
    expect(readdirSync(cacheDir)).toContain(`${id}.png`)
    // A fresh process (nothing registered) still has it on disk.
    const fresh = createHubImages({ cacheDir, env })
    expect((await fresh.get(id))?.mime).toBe('image/png')
    expect(hub.log.filter((l) => l.host === 'images').length).toBe(before + 1)
    // The second picture was declared image/jpeg: the bytes say PNG, so PNG is served.
    expect((await images.get(idOf(p.images[1]!.src)))?.mime).toBe('image/png')
  })

  it('serves nothing for an id no preview handed out, SVG, HTML or an oversize image', async () => {
    const mine = createHubImages({ cacheDir: null, env })
    const at = (path: string, image: Parameters<HubServers['addImage']>[1]) => {
      hub.addImage(path, image)
      return idOf(mine.register(`${hub.imagesUrl}${path}`)!)
    }
    expect(await mine.get('0'.repeat(32))).toBeNull()
    const svg = at('/bad/x.svg', {
      body: Buffer.from('<svg onload="alert(1)"/>'),
      contentType: 'image/svg+xml'
    })
    const html = at('/bad/x.png', {
      body: Buffer.from('<!doctype html><p>login'),
      contentType: 'image/png'
    })
    const huge = at('/bad/huge.png', {
      body: pngOf(1800, 1800, [1, 2, 3], 0),
      contentType: 'image/png'
    })
    expect(pngOf(1800, 1800, [1, 2, 3], 0).length).toBeGreaterThan(MAX_IMAGE_BYTES)
    const gone = idOf(mine.register(`${hub.imagesUrl}/bad/missing.png`)!)
    for (const id of [svg, html, huge, gone]) expect(await mine.get(id)).toBeNull()
  })

  it('follows a redirect only where an image may come from', async () => {
    const mine = createHubImages({ cacheDir: null, env })
    hub.addImage('/r/ok.png', { redirect: `${hub.imagesUrl}/img/a/width=832/cover.png` })
    hub.addImage('/r/away.png', { redirect: 'http://127.0.0.2:9/img.png' })
    expect((await mine.get(idOf(mine.register(`${hub.imagesUrl}/r/ok.png`)!)))?.mime).toBe(
      'image/png'
    )
    expect(await mine.get(idOf(mine.register(`${hub.imagesUrl}/r/away.png`)!))).toBeNull()
    expect(mine.register('http://10.0.0.1/x.png')).toBeNull()
  })

  it('keeps the disk cache under its bound, dropping the least recently used', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podpull-hub-images-bound-'))
    const small = createHubImages({ cacheDir: dir, env, maxCacheBytes: PNG.length * 2 })
    const ids = ['p1', 'p2', 'p3'].map((n) => {
      hub.addImage(`/bound/${n}.png`, { body: PNG, contentType: 'image/png' })
      return idOf(small.register(`${hub.imagesUrl}/bound/${n}.png`)!)
    })
    for (const id of ids) expect(await small.get(id)).not.toBeNull()
    expect(readdirSync(dir).sort()).toEqual(
      ids
        .slice(1)
        .map((id) => `${id}.png`)
        .sort()
    )
  })

  it('is answered by podpull serve on its own origin, images only', async () => {
    const app = await makeTestApp()
    const dir = staticPageDir()
    const server = await startHeadlessServer({
      handlers: app.handlers,
      events: app.core,
      staticDir: dir,
      images
    })
    try {
      const p = await previewLink(civitai('/models/300'), opts(), images)
      const res = await fetch(`${server.url}${p.images[0]!.src}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('image/png')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'")
      expect(Buffer.from(await res.arrayBuffer())).toEqual(PNG)
      expect((await fetch(`${server.url}/hub-image/${'0'.repeat(32)}`)).status).toBe(404)
      expect((await fetch(`${server.url}/hub-image/${'0'.repeat(31)}g`)).status).toBe(404)
    } finally {
      await server.close()
    }
  })
})
