// Looks at a URL before downloading: the file name, size, source, folder to
// suggest and (Hugging Face) the sha256. One ranged GET (bytes 0-0) per hop,
// redirects followed by hand so Authorization never leaves its own host.
import { request } from '../engine/undiciLazy'
import type { SourceKind } from '../../shared/types'
import { isHtmlType, looksLikeLoginUrl } from '../engine/httpClient'
import { UserError } from '../errors'
import { filenameFrom } from '../models/fileNames'
import { suggestFolder } from '../models/folders'
import { normalizeDownloadUrl, sourceOf } from './sourceUrls'

export interface ProbeResult {
  /** The URL to download (normalized; redirects not baked in: they expire). */
  url: string
  finalUrl: string
  filename: string
  size: number | null
  source: SourceKind
  suggestedFolder: string
  sha256?: string
  acceptsRanges: boolean
}

export interface ProbeOptions {
  auth: (url: URL) => string | undefined
  authHint: (url: URL) => string | undefined
  timeoutMs?: number
}

const MAX_HOPS = 10

function header(
  h: Record<string, string | string[] | undefined>,
  name: string
): string | undefined {
  const v = h[name]
  return Array.isArray(v) ? v[0] : v
}

export async function probeUrl(input: string, opts: ProbeOptions): Promise<ProbeResult> {
  const url = normalizeDownloadUrl(input)
  let current = new URL(url)
  let sha256: string | undefined
  let linkedSize: number | undefined
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    const auth = opts.auth(current)
    const res = await request(current, {
      method: 'GET',
      headers: {
        range: 'bytes=0-0',
        'user-agent': 'PodPull',
        ...(auth ? { authorization: auth } : {})
      },
      headersTimeout: opts.timeoutMs ?? 20_000,
      bodyTimeout: opts.timeoutMs ?? 20_000
    }).catch((err: Error) => {
      throw new UserError('network', `Could not reach ${current.host}: ${err.message}`)
    })
    // We only want headers: never read a (possibly multi-GB) body. dump() stops
    // after the limit and closes the stream without an unhandled error.
    await res.body.dump({ limit: 64 << 10 }).catch(() => undefined)
    const h = res.headers
    // Hugging Face says the LFS object's sha256 and size before redirecting to its CDN.
    const linked = header(h, 'x-linked-etag')?.replace(/^W\//, '').replace(/"/g, '')
    if (linked && /^[0-9a-f]{64}$/i.test(linked)) sha256 = linked.toLowerCase()
    const ls = Number(header(h, 'x-linked-size'))
    if (Number.isFinite(ls) && ls > 0) linkedSize = ls
    const status = res.statusCode
    if (status >= 300 && status < 400) {
      const loc = header(h, 'location')
      if (!loc)
        throw new UserError('http', `${current.host} answered ${status} without a location.`)
      const next = new URL(loc, current)
      if (looksLikeLoginUrl(next)) throw loginError(current, opts)
      current = next
      continue
    }
    if (status === 401 || status === 403) {
      throw new UserError(
        'auth',
        opts.authHint(current) ??
          `${current.host} refused access (${status}): the file needs a login or a token.`
      )
    }
    if (status === 404)
      throw new UserError('http', `Not found (404): ${current.host}${current.pathname}`)
    if (status >= 400) throw new UserError('http', `${current.host} answered ${status}.`)
    if (isHtmlType(header(h, 'content-type'))) throw loginError(current, opts)
    const range = /\/(\d+)\s*$/.exec(header(h, 'content-range') ?? '')
    const length = Number(header(h, 'content-length'))
    const size = range
      ? Number(range[1])
      : status === 200 && Number.isFinite(length)
        ? length
        : (linkedSize ?? null)
    const filename = filenameFrom(header(h, 'content-disposition'), current.toString())
    return {
      url,
      finalUrl: current.toString(),
      filename,
      size,
      source: sourceOf(url),
      suggestedFolder: suggestFolder(filename, { url }),
      ...(sha256 ? { sha256 } : {}),
      acceptsRanges: status === 206
    }
  }
  throw new UserError('http', `Too many redirects from ${new URL(url).host}.`)
}

function loginError(at: URL, opts: ProbeOptions): UserError {
  const hint = opts.authHint(at)
  return new UserError(
    'html',
    `${at.host} sent a web page (a login page?) instead of the model file.` +
      (hint ? ` ${hint}` : '')
  )
}
