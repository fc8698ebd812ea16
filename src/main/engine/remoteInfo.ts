// What the server says about the file before any byte is written: size,
// whether it serves ranges, and its validators (for If-Range and for
// deciding whether a `.part` from an earlier run is still the same file).
// For a fresh download the question is the first request itself (`Range:
// bytes=0-`): its body is kept for the first connection, so a download costs
// one request and one handshake fewer, as with curl and aria2c. Where bytes
// are already here (a .part to resume, a file to compare) it asks for byte 0
// only: an open-ended answer would send what we have again, a TCP window's
// worth before we could hang up.
import { streamBody, type InitialBody } from './bodyReader'
import { seconds } from './backoff'
import {
  get,
  htmlError,
  isHtmlType,
  MAX_REDIRECTS,
  redirectTarget,
  refusal,
  RetryableError,
  unreachable,
  type HttpOptions
} from './httpClient'
import { rawGet, rawSpeaks } from './rawHttp'

export interface RemoteInfo {
  size: number | null
  acceptsRanges: boolean
  etag: string | null
  lastModified: string | null
  /** The answer's body from byte 0, unread: the first connection continues it. */
  body?: InitialBody
  /** Where the file is served from, after redirects (the raw HTTP path asks there directly). */
  url: URL
  /** The body came without a Content-Length (chunked): the raw path, which reads
   *  only sized bodies, would be asked in vain on every retry. */
  unsized?: boolean
}

/** The validator resume may rely on: a strong ETag, else Last-Modified. */
export function strongValidator(info: Pick<RemoteInfo, 'etag' | 'lastModified'>): string | null {
  if (info.etag && !info.etag.startsWith('W/')) return info.etag
  return info.lastModified ?? null
}

// Total size from `Content-Range: bytes a-b/total` (or `bytes */total` on a 416).
export function totalFromContentRange(value: string | undefined): number | null {
  const m = /\/(\d+)\s*$/.exec(value ?? '')
  return m ? Number(m[1]) : null
}

function lengthOf(value: string | undefined): number | null {
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : null
}

export interface ProbeOptions extends HttpOptions {
  /** Ask for the whole file and keep the body for the first connection (else byte 0 only). */
  keepBody: boolean
}

/** Size, range support and validators from the first answer (see the top of this file). */
export async function probeRemote(url: string, opts: ProbeOptions): Promise<RemoteInfo> {
  // A server that sends headers and then nothing must not hang the download.
  const ctl = new AbortController()
  const timer = setTimeout(
    () => ctl.abort(new RetryableError(`no answer for ${seconds(opts.headersTimeoutMs)}`)),
    opts.headersTimeoutMs
  )
  try {
    return await probe(url, { ...opts, signal: AbortSignal.any([opts.signal, ctl.signal]) })
  } catch (err) {
    if (ctl.signal.aborted && !opts.signal.aborted) throw ctl.signal.reason
    throw err
  } finally {
    clearTimeout(timer)
  }
}

async function probe(url: string, opts: ProbeOptions): Promise<RemoteInfo> {
  const raw = await rawProbe(new URL(url), opts)
  if (raw) return raw
  // Redirects to elsewhere, chunked bodies, a 416: undici sorts out every case.
  const res = await get(url, { ...opts, range: rangeOf(opts), ifRange: undefined })
  const sized = res.status === 206 || res.status === 416
  let body: InitialBody | undefined
  if (res.status === 200 || (res.status === 206 && opts.keepBody)) body = streamBody(res.body)
  else await res.body.dump?.().catch(() => undefined) // byte 0 only (or nothing): the connection stays usable
  return {
    etag: res.headers.etag ?? null,
    lastModified: res.headers['last-modified'] ?? null,
    size: sized
      ? totalFromContentRange(res.headers['content-range'])
      : lengthOf(res.headers['content-length']),
    acceptsRanges: sized,
    body,
    url: res.url,
    unsized: res.status >= 200 && res.status < 300 && res.headers['content-length'] === undefined
  }
}

/** The whole file when its body is kept, else byte 0 only. */
const rangeOf = (opts: ProbeOptions): { from: number; to?: number } =>
  opts.keepBody ? { from: 0 } : { from: 0, to: 0 }

/**
 * The probe on the raw reader (rawHttp.ts), redirects followed as get() does:
 * no undici to load and no second connection for the common answer (a sized
 * 200 or 206 from byte 0). Undefined when the answer needs get().
 */
async function rawProbe(first: URL, opts: ProbeOptions): Promise<RemoteInfo | undefined> {
  let at = first
  for (let hop = 0; hop <= MAX_REDIRECTS && rawSpeaks(at); hop++) {
    // The body outlives the probe: the attempt that takes it relays its own stop.
    const relay = new AbortController()
    const signal = AbortSignal.any([opts.signal, relay.signal])
    const res = await rawGet(at, {
      ...opts,
      signal,
      range: rangeOf(opts),
      ifRange: undefined
    }).catch((err: unknown) => {
      if (opts.signal.aborted) throw err
      throw unreachable(at, err)
    })
    const { status, headers } = res
    const fromZero = status === 200 || /^bytes 0-/.test(headers['content-range'] ?? '')
    if (status >= 300 && status < 400 && headers.location) {
      res.close()
      at = redirectTarget(headers.location, at, opts)
      continue
    }
    if ((status === 200 || status === 206) && res.length !== null && fromZero) {
      if (isHtmlType(headers['content-type'])) {
        res.close()
        throw htmlError(at, opts)
      }
      const info = {
        etag: headers.etag ?? null,
        lastModified: headers['last-modified'] ?? null,
        size: status === 206 ? totalFromContentRange(headers['content-range']) : res.length,
        acceptsRanges: status === 206,
        url: at
      }
      if (status === 206 && !opts.keepBody) {
        res.close() // byte 0 was all we asked for
        return info
      }
      return {
        ...info,
        body: {
          take: (attempt) => {
            if (attempt.aborted) relay.abort(attempt.reason)
            else
              attempt.addEventListener('abort', () => relay.abort(attempt.reason), { once: true })
            return res
          },
          close: () => res.close()
        }
      }
    }
    res.close()
    // A refusal is final the way get() would call it; anything else goes to get().
    if (status >= 400 && status !== 416) throw refusal(status, headers, at, first, opts)
    return undefined
  }
  return undefined
}
