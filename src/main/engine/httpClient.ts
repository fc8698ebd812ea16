// One HTTP GET as the engine needs it: redirects followed by hand so the
// Authorization header goes only to the host it is for, answers sorted into
// "give up with a sentence for the user" (EngineError) and "try again"
// (RetryableError), and nothing secret (tokens, signed URLs) in any message.
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { serverWaitMs } from './backoff'
import { MalformedAnswer } from './rawHttp'
import { engineAgent, request } from './undiciLazy'
import { EngineError } from './types'

export const MAX_REDIRECTS = 10
/** How much of each response undici buffers ahead of us (measured: 64 KiB costs less CPU than 1 MiB). */
const BODY_HIGH_WATER_MARK = 64 * 1024

/** A failure worth another attempt (network error, stall, 5xx, 429). */
export class RetryableError extends Error {
  constructor(
    message: string,
    /** What the server asked for (Retry-After, RateLimit), in ms. */
    readonly retryAfterMs?: number,
    /** The status that said so, and the host that sent it. */
    readonly status?: number,
    readonly host?: string
  ) {
    super(message)
    this.name = 'RetryableError'
  }
}

export interface HttpOptions {
  signal: AbortSignal
  auth: (url: URL) => string | undefined
  authHint?: (url: URL) => string | undefined
  /** ms to wait for response headers. */
  headersTimeoutMs: number
  range?: { from: number; to?: number }
  ifRange?: string
}

export interface HttpResponse {
  status: number
  headers: Record<string, string | undefined>
  body: Readable & { dump?: () => Promise<void> }
  /** The URL that answered, after redirects. */
  url: URL
}

function flatHeaders(h: Dispatcher.ResponseData['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = Array.isArray(v) ? v[0] : v
  return out
}

/** Login walls announce themselves in the redirect target (Civitai: reason=download-auth). */
export function looksLikeLoginUrl(url: URL): boolean {
  return url.searchParams.get('reason') === 'download-auth' || /\/login\/?$/i.test(url.pathname)
}

export const isHtmlType = (contentType: string | undefined): boolean =>
  /^\s*(text\/html|application\/xhtml\+xml)/i.test(contentType ?? '')

/** A body that starts like a web page (XHTML's `<?xml` prologue included), for
 *  servers that mislabel their login pages; the helper's looks_like_html. */
export function looksLikeHtml(chunk: Buffer): boolean {
  const head = chunk
    .subarray(0, 256)
    .toString('latin1')
    .replace(/^[ \t\n\r\f\v]+/, '')
    .toLowerCase()
  if (head.startsWith('<?xml')) return head.includes('<html') || head.includes('<!doctype html')
  return head.startsWith('<!doctype') || head.startsWith('<html')
}

export function htmlError(url: URL, opts: Pick<HttpOptions, 'authHint'>): EngineError {
  const hint =
    opts.authHint?.(url) ??
    'the link may need a login or an API token, or may not be a direct download link.'
  return new EngineError(
    'html',
    `${url.host} sent a web page instead of the model file: ${lowerFirst(hint)}`
  )
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1)

function statusError(status: number, url: URL, first: URL, opts: HttpOptions): Error {
  if (status === 401 || status === 403) {
    const hint = opts.authHint?.(url) ?? opts.authHint?.(first)
    return new EngineError(
      'auth',
      hint ??
        `The server refused access (${status}) at ${url.host}: the file may need an access token, or it is private.`,
      false,
      status
    )
  }
  if (status === 404 || status === 410)
    return new EngineError(
      'http',
      `The file was not found (${status}) at ${url.host}: check the URL.`,
      false,
      status
    )
  return new EngineError(
    'http',
    `The server at ${url.host} refused the download (HTTP ${status}).`,
    false,
    status
  )
}

function buildHeaders(url: URL, opts: HttpOptions): Record<string, string> {
  const h: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'PodPull' }
  // The token goes only to the host it was given for: auth() is asked per hop,
  // so a redirect to another host (a CDN behind a signed URL) gets that host's
  // auth (usually none), never the first host's.
  const auth = opts.auth(url)
  if (auth) h.authorization = auth
  if (opts.range) h.range = `bytes=${opts.range.from}-${opts.range.to ?? ''}`
  if (opts.range && opts.ifRange) h['if-range'] = opts.ifRange
  return h
}

/** The error for a final answer that is neither 2xx nor a redirect (shared with rawHttp's callers). */
export function refusal(
  status: number,
  headers: Record<string, string | undefined>,
  at: URL,
  first: URL,
  opts: HttpOptions
): Error {
  if (status === 429 || status >= 500 || status === 408)
    return new RetryableError(
      `The server at ${at.host} answered HTTP ${status}.`,
      serverWaitMs(headers),
      status,
      at.host
    )
  return statusError(status, at, first, opts)
}

async function send(url: URL, opts: HttpOptions): Promise<Dispatcher.ResponseData> {
  try {
    return await request(url, {
      method: 'GET',
      headers: buildHeaders(url, opts),
      signal: opts.signal,
      dispatcher: await engineAgent(),
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: 0, // stalls are watched by the reader, which knows about disk backpressure
      highWaterMark: BODY_HIGH_WATER_MARK
    })
  } catch (err) {
    if (opts.signal.aborted) throw err
    throw unreachable(url, err)
  }
}

/** OpenSSL's verdicts on a certificate chain: asking again cannot change them. */
const CERT_ERRORS =
  /^(ERR_TLS_CERT_ALTNAME_INVALID|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET_ISSUER_CERT|VERIFY_LEAF_SIGNATURE))/

/** A connection that failed: worth another attempt, unless the server's certificate is not trusted. */
export function unreachable(url: URL, err: unknown): Error {
  if (err instanceof MalformedAnswer)
    return new EngineError(
      'http',
      `The server at ${url.host} sent a malformed answer (${err.reason}); PodPull will not guess what it meant.`
    )
  const why = describe(err)
  if (CERT_ERRORS.test(why))
    return new EngineError(
      'network',
      `The HTTPS certificate of ${url.host} is not trusted (${why}): the download was not started from it.`
    )
  return new RetryableError(`Could not reach ${url.host}: ${why}`)
}

/** A short, secret-free reason for a network failure. */
export function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string } }
  return e.cause?.code ?? e.code ?? e.message ?? String(err)
}

/** Where a redirect from `at` leads, refused when it is no download (another scheme, a login page). */
export function redirectTarget(
  location: string,
  at: URL,
  opts: Pick<HttpOptions, 'authHint'>
): URL {
  const next = new URL(location, at)
  if (next.protocol !== 'http:' && next.protocol !== 'https:')
    throw new EngineError('http', `${at.host} redirected to an unsupported address.`)
  if (looksLikeLoginUrl(next)) throw htmlError(next, opts)
  return next
}

/** GET `url`, following redirects; resolves on a 2xx with the body unread. */
export async function get(url: string, opts: HttpOptions): Promise<HttpResponse> {
  const first = new URL(url)
  let at = first
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await send(at, opts)
    const headers = flatHeaders(res.headers)
    const status = res.statusCode
    if (status >= 300 && status < 400 && headers.location) {
      await res.body.dump().catch(() => undefined)
      at = redirectTarget(headers.location, at, opts)
      continue
    }
    // 416 answers a range past the end (an empty file); the caller reads Content-Range.
    if ((status >= 200 && status < 300) || (status === 416 && opts.range)) {
      if (isHtmlType(headers['content-type'])) {
        await res.body.dump().catch(() => undefined)
        throw htmlError(at, opts)
      }
      return { status, headers, body: res.body, url: at }
    }
    await res.body.dump().catch(() => undefined)
    throw refusal(status, headers, at, first, opts)
  }
  throw new EngineError(
    'http',
    `Too many redirects (more than ${MAX_REDIRECTS}) from ${first.host}.`
  )
}
