// Preview images of hub models, fetched by main and handed to the page under
// its own origin (/hub-image/<id>), so the page's CSP never has to allow the
// web. Only URLs a preview registered are fetched; each answer must be a
// raster image under the size cap; images keep to a bounded cache on disk.
// Image requests carry no token, cookie or referrer: the image CDNs of the
// hubs serve previews publicly, and a token sent there would leave the host
// it was issued for.
import { mkdir, readdir, rename, stat, unlink, utimes, writeFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { request } from '../engine/undiciLazy'
import { civitaiEndpoint, hfEndpoint } from './endpoints'
import {
  MAX_CACHE_BYTES,
  MAX_IMAGE_BYTES,
  cacheFileFor,
  cacheFilesOf,
  cachedEntryOf,
  evictionPlan,
  imageIdOf,
  imageMime,
  imageSrcOf,
  imageUrlAllowed,
  type CacheEntry
} from './imageRoute'

export interface HubImage {
  mime: string
  body: Uint8Array
}

export interface HubImages {
  /** Remembers a remote image; the path the page loads it from, or null when
   *  the URL may not be fetched. */
  register(remoteUrl: string): string | null
  /** The image an id names (cache first), or null: unknown id, not an image, too large, unreachable. */
  get(id: string): Promise<HubImage | null>
}

export interface HubImagesOptions {
  /** The disk cache; null keeps nothing on disk. */
  cacheDir: string | null
  env?: NodeJS.ProcessEnv
  maxCacheBytes?: number
  timeoutMs?: number
}

/** Ids remembered at most (oldest forgotten first); each is one URL string. */
const MAX_REGISTERED = 2000
const MAX_REDIRECTS = 3

export function createHubImages(opts: HubImagesOptions): HubImages {
  const env = opts.env ?? process.env
  const registered = new Map<string, string>()
  const inFlight = new Map<string, Promise<HubImage | null>>()
  const plainHttpHosts = (): string[] =>
    [hfEndpoint(env), civitaiEndpoint(env)]
      .filter((u) => u.protocol === 'http:')
      .map((u) => u.hostname.toLowerCase())

  /** The cached picture of an id: its few possible names are tried directly,
   *  so a request costs a handful of opens, not a listing of the whole cache. */
  async function fromCache(id: string): Promise<HubImage | null> {
    if (!opts.cacheDir) return null
    for (const { file, mime } of cacheFilesOf(opts.cacheDir, id)) {
      const body = await readFile(file).catch(() => null)
      if (!body) continue
      const now = new Date()
      await utimes(file, now, now).catch(() => undefined) // last use, for eviction
      return { mime, body: new Uint8Array(body) }
    }
    return null
  }

  async function remember(id: string, img: HubImage): Promise<void> {
    const dir = opts.cacheDir
    if (!dir) return
    await mkdir(dir, { recursive: true })
    const file = cacheFileFor(dir, id, img.mime)
    const tmp = `${file}.${process.pid}.tmp`
    await writeFile(tmp, img.body)
    await rename(tmp, file)
    const entries: CacheEntry[] = []
    for (const name of await readdir(dir)) {
      if (!cachedEntryOf(name)) continue
      const s = await stat(join(dir, name)).catch(() => null)
      if (s) entries.push({ name, size: s.size, usedAt: s.mtimeMs })
    }
    for (const name of evictionPlan(entries, opts.maxCacheBytes ?? MAX_CACHE_BYTES))
      await unlink(join(dir, name)).catch(() => undefined)
  }

  async function fetchImage(url: string): Promise<HubImage | null> {
    let at = url
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (!imageUrlAllowed(at, plainHttpHosts())) return null
      const res = await request(new URL(at), {
        method: 'GET',
        headers: { 'user-agent': 'PodPull', accept: 'image/avif,image/webp,image/png,image/jpeg' },
        headersTimeout: opts.timeoutMs ?? 20_000,
        bodyTimeout: opts.timeoutMs ?? 20_000
      })
      // Dropping an answer (too large, not 200) aborts its body: not an error of ours.
      res.body.on('error', () => undefined)
      const location = res.headers.location
      if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
        await res.body.dump().catch(() => undefined)
        at = new URL(location, at).toString()
        continue
      }
      const declared = Number(res.headers['content-length'] ?? 0)
      if (res.statusCode !== 200 || declared > MAX_IMAGE_BYTES) {
        res.body.destroy()
        return null
      }
      const chunks: Buffer[] = []
      let n = 0
      for await (const c of res.body as AsyncIterable<Buffer>) {
        n += c.length
        if (n > MAX_IMAGE_BYTES) {
          res.body.destroy()
          return null
        }
        chunks.push(c)
      }
      const body = new Uint8Array(Buffer.concat(chunks))
      const type = res.headers['content-type']
      const mime = imageMime(Array.isArray(type) ? type[0] : type, body.subarray(0, 16))
      return mime ? { mime, body } : null
    }
    return null
  }

  async function load(id: string): Promise<HubImage | null> {
    const cached = await fromCache(id)
    if (cached) return cached
    const url = registered.get(id)
    if (!url) return null
    const img = await fetchImage(url).catch(() => null)
    if (img) await remember(id, img).catch(() => undefined) // a full disk only costs the cache
    return img
  }

  return {
    register(remoteUrl) {
      if (!imageUrlAllowed(remoteUrl, plainHttpHosts())) return null
      const id = imageIdOf(remoteUrl)
      registered.delete(id)
      registered.set(id, remoteUrl)
      if (registered.size > MAX_REGISTERED)
        registered.delete(registered.keys().next().value as string)
      return imageSrcOf(remoteUrl)
    },
    get(id) {
      // Several cards asking for one picture at once fetch it once.
      let p = inFlight.get(id)
      if (!p) {
        p = load(id).finally(() => inFlight.delete(id))
        inFlight.set(id, p)
      }
      return p
    }
  }
}
