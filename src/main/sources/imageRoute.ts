// The decisions of the hub-image route, apart from any I/O so they can be
// tested for every OS: which request names which image, which remote URLs may
// be fetched at all, what counts as an image, where the cache keeps it and
// what the cache drops when it grows. The page asks for /hub-image/<id> on its
// own origin (app://podpull in Electron, `podpull serve`'s address in a
// browser); the id is a hash of a URL main handed out in a preview, so the
// route can never be turned into a proxy to arbitrary hosts.
import { createHash } from 'node:crypto'
import { posix, win32 } from 'node:path'
import { HUB_IMAGE_ID as ID, HUB_IMAGE_PREFIX } from '../../shared/hubImagePath'

export { HUB_IMAGE_PREFIX, imageIdFromRequest } from '../../shared/hubImagePath'

/** An image larger than this is not shown (a preview needs far less). */
export const MAX_IMAGE_BYTES = 8 << 20
/** The cache on disk stays under this many bytes. */
export const MAX_CACHE_BYTES = 64 << 20

/** The id an image URL is served under: stable, so the disk cache outlives a restart. */
export function imageIdOf(remoteUrl: string): string {
  return createHash('sha256').update(remoteUrl).digest('hex').slice(0, 32)
}

export const imageSrcOf = (remoteUrl: string): string =>
  `${HUB_IMAGE_PREFIX}${imageIdOf(remoteUrl)}`

/** May main fetch this image URL? https anywhere; plain http only from the
 *  machine of a hub endpoint the user configured as plain http (a LAN mirror
 *  with its image server on another port, a test server), since that hub's
 *  JSON already travels in the clear. */
export function imageUrlAllowed(url: string, plainHttpHostnames: readonly string[]): boolean {
  if (!URL.canParse(url)) return false
  const u = new URL(url)
  if (u.username || u.password) return false
  if (u.protocol === 'https:') return true
  return u.protocol === 'http:' && plainHttpHostnames.includes(u.hostname.toLowerCase())
}

/** Civitai's image CDN scales on the fly (`/width=N/` in the path); a preview
 *  asks for a card-sized picture instead of the multi-megabyte original. */
export function thumbnailUrl(url: string, width = 450): string {
  if (!URL.canParse(url)) return url
  const u = new URL(url)
  if (u.hostname !== 'image.civitai.com') return url
  const parts = u.pathname.split('/')
  const at = parts.findIndex((p) => /^width=\d+$/.test(p))
  if (at >= 0) parts[at] = `width=${width}`
  else parts.splice(parts.length - 1, 0, `width=${width}`)
  u.pathname = parts.join('/')
  return u.toString()
}

const SIGNATURES: { mime: string; test: (b: Uint8Array) => boolean }[] = [
  { mime: 'image/png', test: (b) => starts(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { mime: 'image/jpeg', test: (b) => starts(b, [0xff, 0xd8, 0xff]) },
  { mime: 'image/gif', test: (b) => ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a') },
  { mime: 'image/webp', test: (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP') },
  { mime: 'image/avif', test: (b) => ascii(b, 4, 'ftypavif') || ascii(b, 4, 'ftypavis') }
]

function starts(b: Uint8Array, sig: number[]): boolean {
  return sig.every((v, i) => b[i] === v)
}
function ascii(b: Uint8Array, at: number, text: string): boolean {
  return [...text].every((c, i) => b[at + i] === c.charCodeAt(0))
}

/** The image type of an answer, or null when it is not one of the raster
 *  formats a preview shows. The declared type must say image/… and the bytes
 *  must agree; SVG is refused (it can carry script). The type served is the
 *  one the bytes show, never the remote header. */
export function imageMime(contentType: string | undefined, head: Uint8Array): string | null {
  const declared = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (!declared.startsWith('image/') || declared.includes('svg')) return null
  return SIGNATURES.find((s) => s.test(head))?.mime ?? null
}

export const extensionOf = (mime: string): string => mime.slice('image/'.length)
/** Every type the cache keeps, each under its own suffix. */
export const IMAGE_MIMES: readonly string[] = SIGNATURES.map((s) => s.mime)
const MIME_OF_EXT: Record<string, string> = Object.fromEntries(
  SIGNATURES.map((s) => [extensionOf(s.mime), s.mime])
)

type PathApi = typeof posix

/** The cache file of an image: `<dir>/<id>.<ext>`; the id is hex, so no name
 *  can leave the folder on any OS. */
export function cacheFileFor(
  cacheDir: string,
  id: string,
  mime: string,
  path: PathApi = process.platform === 'win32' ? win32 : posix
): string {
  if (!ID.test(id) || !MIME_OF_EXT[extensionOf(mime)]) throw new Error('not a hub image')
  return path.join(cacheDir, `${id}.${extensionOf(mime)}`)
}

/** The cache files an id may have, one per image type; none for an id that is
 *  not one of ours (so a request can name no other file). */
export function cacheFilesOf(
  cacheDir: string,
  id: string,
  path?: PathApi
): { file: string; mime: string }[] {
  if (!ID.test(id)) return []
  return IMAGE_MIMES.map((mime) => ({ file: cacheFileFor(cacheDir, id, mime, path), mime }))
}

/** The id and type of a file name in the cache folder, or null for anything else. */
export function cachedEntryOf(fileName: string): { id: string; mime: string } | null {
  const m = /^([0-9a-f]{32})\.([a-z]+)$/.exec(fileName)
  const mime = m ? MIME_OF_EXT[m[2]!] : undefined
  return m && mime ? { id: m[1]!, mime } : null
}

export interface CacheEntry {
  name: string
  size: number
  /** Last use (ms). */
  usedAt: number
}

/** The files to delete so the cache is back under `maxBytes`: least recently used first. */
export function evictionPlan(entries: readonly CacheEntry[], maxBytes = MAX_CACHE_BYTES): string[] {
  let total = entries.reduce((n, e) => n + e.size, 0)
  const out: string[] = []
  for (const e of [...entries].sort((a, b) => a.usedAt - b.usedAt)) {
    if (total <= maxBytes) break
    out.push(e.name)
    total -= e.size
  }
  return out
}
