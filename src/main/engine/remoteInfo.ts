// What the server says about the file before any byte is written: size,
// whether it serves ranges, and its validators (for If-Range and for
// deciding whether a `.part` from an earlier run is still the same file).
import type { Readable } from 'node:stream'
import { seconds } from './backoff'
import { get, RetryableError, type HttpOptions } from './httpClient'

export interface RemoteInfo {
  size: number | null
  acceptsRanges: boolean
  etag: string | null
  lastModified: string | null
  /** A 200 body (the server ignored the 1-byte range): reusable as a whole-file stream. */
  body?: Readable
  /** Bytes read while probing. */
  bytesRead: number
  /** Where the file is served from, after redirects (the raw HTTP path asks there directly). */
  url: URL
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

/** Asks for byte 0 only: a 206 tells size and range support at the cost of one byte. */
export async function probeRemote(url: string, opts: HttpOptions): Promise<RemoteInfo> {
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

async function probe(url: string, opts: HttpOptions): Promise<RemoteInfo> {
  const res = await get(url, { ...opts, range: { from: 0, to: 0 }, ifRange: undefined })
  const base = {
    etag: res.headers.etag ?? null,
    lastModified: res.headers['last-modified'] ?? null
  }
  if (res.status === 206 || res.status === 416) {
    let bytesRead = 0
    for await (const chunk of res.body) bytesRead += (chunk as Buffer).length
    return {
      ...base,
      size: totalFromContentRange(res.headers['content-range']),
      acceptsRanges: true,
      bytesRead,
      url: res.url
    }
  }
  return {
    ...base,
    size: lengthOf(res.headers['content-length']),
    acceptsRanges: false,
    body: res.body,
    bytesRead: 0,
    url: res.url
  }
}
