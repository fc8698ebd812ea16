// A loopback model server for tests and benchmarks: serves generated content
// (see content.ts) with Range/If-Range, and injects the faults real hosts
// show (throttling, dropped connections, ETag changes, auth walls, cross-host
// redirects, stalls, 5xx/429). Two listeners: the primary host and a second
// host (another port) standing in for the CDN a download redirects to.
//
// Gatekeeping faults (failStatus, forbidden, requireToken, htmlLogin,
// authRedirect, redirectToSecond, requireQuery, expireAfterBytes) act on the primary host only: the second
// host is the CDN behind a signed redirect and serves without a token.
// Transfer faults (throttle, drop, stall, ranges, validators, headers) act on
// whichever host sends the body.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { DEFAULT_SEED, contentOf, sha256Of } from './content'
import { etagValue, ifRangeMatches, parseRange, type RangeAnswer } from './httpRange'
import { pump } from './pump'

export { contentOf, sha256Of }

export interface Faults {
  throttleBps?: number // per-connection rate limit in bytes/s (each response paced independently)
  dropAfterBytes?: number // destroy the socket after sending this many body bytes of a response
  dropTimes?: number // with dropAfterBytes: only the first N responses drop (default: every response)
  ignoreRange?: boolean // answer 200 with the full body even to a Range request
  etag?: string | null // the ETag to send (default: strong "\"<seed>-<size>\""); null = send none
  weakEtag?: boolean // send W/"…"
  lastModified?: string | null // default a fixed date; null = none
  requireToken?: string // require `Authorization: Bearer <token>`; else 401 (JSON body)
  forbidden?: boolean // 403
  htmlLogin?: boolean // 200 text/html login page (like Civitai without a token)
  authRedirect?: boolean // 302 to /login?reason=download-auth (which serves the HTML login page)
  redirectToSecond?: boolean // 302 to the same path on the second host (another port)
  stall?: boolean // send headers then nothing, keep the socket open (until closed)
  stallAfterBytes?: number // send this many body bytes then stall
  // A gate: bodies stop at this file offset (responses stay open) until setFaults moves it
  // or clears it (undefined opens it). Tests hold a download here instead of racing a throttle.
  holdAt?: number
  // The same gate per response: each body stops after this many bytes (one gate for
  // every segment of a multi-connection download).
  holdAfterBytes?: number
  contentDisposition?: string // raw Content-Disposition header value (hostile names included)
  failStatus?: number // answer this status (e.g. 500, 503, 429) …
  failTimes?: number // … for the first N requests (default 1)
  retryAfter?: number // Retry-After seconds with failStatus
  noContentLength?: boolean // chunked, no Content-Length
  contentType?: string // default application/octet-stream
  /** A presigned link (S3 / R2 / GCS / Azure SAS): 403 unless every named query
   *  parameter is present with exactly this value. */
  requireQuery?: Record<string, string>
  /** The link expires after this many body bytes of the file (all connections
   *  together, counted from when the fault is set): the response that crosses
   *  it is cut there, every later request gets 403. */
  expireAfterBytes?: number
}

export interface ServedFile {
  path: string
  /** The content's seed (content.ts): another server can serve the same bytes. */
  seed: string
  url: string
  secondUrl: string
  size: number
  sha256: string // computed on first read, then cached
}

export interface RequestLog {
  host: 'primary' | 'second'
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  status: number
  bytesSent: number
  time: number
}

export interface ModelServer {
  url: string // http://127.0.0.1:<port> (https: with the tls option)
  secondUrl: string // http://127.0.0.1:<port2> (the "other host": the CDN)
  addFile(path: string, opts: { size: number; seed?: string } & Faults): ServedFile
  setFaults(path: string, faults: Partial<Faults>): void
  requests: RequestLog[]
  requestsFor(path: string): RequestLog[]
  bytesServed(path: string): number
  /** Responses for `path` still open (a held or running download), both hosts. */
  openResponses(path: string): number
  close(): Promise<void>
}

export const DEFAULT_LAST_MODIFIED = 'Wed, 01 Jan 2025 00:00:00 GMT'
export const LOGIN_PATH = '/login'

const LOGIN_PAGE =
  '<!doctype html><html><head><title>Log in</title></head><body>' +
  '<h1>Log in to download</h1><form action="/login" method="post">' +
  '<input name="user"><input name="password" type="password"><button>Log in</button>' +
  '</form></body></html>\n'

interface Entry {
  path: string
  size: number
  seed: string
  faults: Faults
  failsSoFar: number // requests answered with failStatus since it was set
  dropsSoFar: number // responses dropped since dropAfterBytes/dropTimes were set
  bytes: number // body bytes written, both hosts
  waiters: (() => void)[] // responses held at the gate, woken when the faults change
  open: number // responses still open
  expireLeft?: number // expireAfterBytes: body bytes still allowed before the link expires
}

type Host = RequestLog['host']

function checkFaults(path: string, f: Partial<Faults>): void {
  const cd = f.contentDisposition
  if (cd !== undefined && (/[\r\n]/.test(cd) || cd.includes('\0')))
    throw new Error(`contentDisposition for ${path} must not contain CR, LF or NUL`)
}

/** Node only sends Latin-1 header strings; a value with other characters goes
 *  out as its raw UTF-8 bytes, like a real server sending a UTF-8 filename. */
function rawHeader(v: string): string {
  return /[\u0100-\u{10ffff}]/u.test(v) ? Buffer.from(v, 'utf8').toString('latin1') : v
}

/** Where a response starting at `start` stops: the nearer of the two gates. */
function gateOf(f: Faults, start: number): number | undefined {
  const perResponse = f.holdAfterBytes === undefined ? undefined : start + f.holdAfterBytes
  if (f.holdAt === undefined) return perResponse
  return perResponse === undefined ? f.holdAt : Math.min(f.holdAt, perResponse)
}

/** Logs and files are keyed by path alone: a query string doesn't matter. */
const pathOnly = (pathOrUrl: string): string => new URL(pathOrUrl, 'http://x').pathname

/** Every wanted parameter present in the request's query with exactly that value. */
function queryMatches(reqUrl: string, want: Record<string, string>): boolean {
  const q = new URL(reqUrl, 'http://x').searchParams
  return Object.entries(want).every(([k, v]) => q.get(k) === v)
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // Kept for the server's life (a late error after listening must not escape).
    server.on('error', reject)
    server.listen(port, '127.0.0.1', () => {
      resolve((server.address() as AddressInfo).port)
    })
  })
}

export async function startModelServer(
  opts: {
    port?: number
    secondPort?: number
    /** Serve HTTPS on both hosts with this key and certificate (see selfSignedCert.ts). */
    tls?: { key: string; cert: string }
  } = {}
): Promise<ModelServer> {
  const files = new Map<string, Entry>()
  const requests: RequestLog[] = []
  const sockets = new Set<Socket>()
  const urls = { primary: '', second: '' }

  function send(
    res: ServerResponse,
    log: RequestLog,
    status: number,
    headers: Record<string, string | number>,
    body = ''
  ): void {
    log.status = status
    res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) })
    res.end(log.method === 'HEAD' ? undefined : body)
  }

  const json = (res: ServerResponse, log: RequestLog, status: number, error: string): void =>
    send(res, log, status, { 'Content-Type': 'application/json' }, JSON.stringify({ error }))

  const loginPage = (res: ServerResponse, log: RequestLog): void =>
    send(res, log, 200, { 'Content-Type': 'text/html; charset=utf-8' }, LOGIN_PAGE)

  /** The primary host's gatekeeping; true when it answered the request. */
  function gatekeep(e: Entry, req: IncomingMessage, res: ServerResponse, log: RequestLog) {
    const f = e.faults
    if (f.failStatus !== undefined && e.failsSoFar < (f.failTimes ?? 1)) {
      e.failsSoFar++
      const h: Record<string, string | number> = { 'Content-Type': 'application/json' }
      if (f.retryAfter !== undefined) h['Retry-After'] = f.retryAfter
      send(res, log, f.failStatus, h, JSON.stringify({ error: `injected ${f.failStatus}` }))
      return true
    }
    if (f.forbidden) return (json(res, log, 403, 'Forbidden'), true)
    if (f.expireAfterBytes !== undefined && (e.expireLeft ?? 0) <= 0)
      return (json(res, log, 403, 'Request has expired'), true)
    if (f.requireQuery && !queryMatches(req.url ?? '', f.requireQuery))
      return (json(res, log, 403, 'SignatureDoesNotMatch'), true)
    const tokenOk =
      f.requireToken !== undefined && req.headers.authorization === `Bearer ${f.requireToken}`
    if (f.htmlLogin && !tokenOk) return (loginPage(res, log), true)
    if (f.authRedirect && !tokenOk) {
      const to = `${urls.primary}${LOGIN_PATH}?reason=download-auth`
      return (send(res, log, 302, { Location: to }), true)
    }
    if (f.requireToken !== undefined && !tokenOk) {
      send(
        res,
        log,
        401,
        { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer' },
        JSON.stringify({ error: 'Invalid or missing token' })
      )
      return true
    }
    if (f.redirectToSecond) {
      const to = urls.second + (req.url ?? e.path)
      return (send(res, log, 302, { Location: to }), true)
    }
    return false
  }

  function serveBody(e: Entry, req: IncomingMessage, res: ServerResponse, log: RequestLog): void {
    const f = e.faults
    const etag = etagValue(f.etag, f.weakEtag, e.seed, e.size)
    const lastModified = f.lastModified === undefined ? DEFAULT_LAST_MODIFIED : f.lastModified
    const h: Record<string, string | number> = {
      'Content-Type': f.contentType ?? 'application/octet-stream'
    }
    if (etag !== null) h.ETag = etag
    if (lastModified !== null) h['Last-Modified'] = lastModified
    if (f.contentDisposition !== undefined)
      h['Content-Disposition'] = rawHeader(f.contentDisposition)
    let range: RangeAnswer = { kind: 'full' }
    if (!f.ignoreRange) {
      h['Accept-Ranges'] = 'bytes'
      const ifRange = [req.headers['if-range']].flat()[0]
      if (ifRangeMatches(ifRange, etag, lastModified)) range = parseRange(req.headers.range, e.size)
    }
    if (range.kind === 'unsatisfiable') {
      h['Content-Range'] = `bytes */${e.size}`
      return send(res, log, 416, h)
    }
    const start = range.kind === 'partial' ? range.start : 0
    const length = range.kind === 'partial' ? range.end - range.start + 1 : e.size
    if (range.kind === 'partial') h['Content-Range'] = `bytes ${start}-${range.end}/${e.size}`
    if (!f.noContentLength) h['Content-Length'] = length
    log.status = range.kind === 'partial' ? 206 : 200
    res.writeHead(log.status, h)
    if (req.method === 'HEAD') return void res.end()

    let limit = length
    let after: 'end' | 'drop' | 'stall' = 'end'
    const dropsNow =
      f.dropAfterBytes !== undefined &&
      f.dropAfterBytes < length &&
      (f.dropTimes === undefined || e.dropsSoFar < f.dropTimes)
    if (dropsNow) {
      e.dropsSoFar++
      limit = f.dropAfterBytes!
      after = 'drop'
    }
    if (f.expireAfterBytes !== undefined) {
      // Shared by every connection: together they get no more than the link allows.
      const left = e.expireLeft ?? 0
      if (left < limit) {
        limit = left
        after = 'drop'
      }
      e.expireLeft = left - limit
    }
    const stallAt = f.stall ? 0 : f.stallAfterBytes
    if (stallAt !== undefined && stallAt < limit) {
      limit = stallAt
      after = 'stall'
    }
    void pump(res, {
      seed: e.seed,
      start,
      limit,
      after,
      rate: () => e.faults.throttleBps,
      holdAt: () => gateOf(e.faults, start),
      changed: () => new Promise<void>((r) => e.waiters.push(r)),
      onBytes: (n) => {
        log.bytesSent += n
        e.bytes += n
      }
    })
  }

  const handler = (host: Host) => (req: IncomingMessage, res: ServerResponse) => {
    const path = pathOnly(req.url ?? '/')
    const log: RequestLog = {
      host,
      method: req.method ?? 'GET',
      path,
      headers: { ...req.headers },
      status: 0,
      bytesSent: 0,
      time: Date.now()
    }
    requests.push(log)
    res.on('error', () => undefined) // a client hanging up is not our failure
    const e = files.get(path)
    if (!e) {
      if (path === LOGIN_PATH) return loginPage(res, log)
      return send(res, log, 404, { 'Content-Type': 'text/plain' }, `No file at ${path}\n`)
    }
    if (log.method !== 'GET' && log.method !== 'HEAD')
      return send(res, log, 405, { Allow: 'GET, HEAD' })
    e.open++
    res.once('close', () => e.open--)
    if (host === 'primary' && gatekeep(e, req, res, log)) return
    serveBody(e, req, res, log)
  }

  const make = (host: Host): Server => {
    const settings = { requestTimeout: 0, keepAliveTimeout: 5000 }
    const s = opts.tls
      ? createHttpsServer({ ...settings, ...opts.tls }, handler(host))
      : createServer(settings, handler(host))
    s.on('connection', (sock) => {
      sockets.add(sock)
      sock.setNoDelay(true)
      sock.once('close', () => sockets.delete(sock))
    })
    return s
  }
  const primary = make('primary')
  const second = make('second')
  const scheme = opts.tls ? 'https' : 'http'
  urls.primary = `${scheme}://127.0.0.1:${await listen(primary, opts.port ?? 0)}`
  urls.second = `${scheme}://127.0.0.1:${await listen(second, opts.secondPort ?? 0)}`

  return {
    url: urls.primary,
    secondUrl: urls.second,
    requests,
    addFile(path, opts) {
      const { size, seed = DEFAULT_SEED, ...faults } = opts
      if (!path.startsWith('/')) throw new Error(`File path must start with "/": ${path}`)
      if (!Number.isSafeInteger(size) || size < 0)
        throw new Error(`File size must be a whole number of bytes ≥ 0, got ${size}`)
      checkFaults(path, faults)
      const entry: Entry = {
        path,
        size,
        seed,
        faults,
        failsSoFar: 0,
        dropsSoFar: 0,
        bytes: 0,
        waiters: [],
        open: 0
      }
      entry.expireLeft = faults.expireAfterBytes
      for (const k of Object.keys(faults) as (keyof Faults)[])
        if (faults[k] === undefined) delete faults[k]
      files.set(path, entry)
      return {
        path,
        seed,
        url: urls.primary + path,
        secondUrl: urls.second + path,
        size,
        get sha256() {
          return sha256Of(size, seed)
        }
      }
    },
    setFaults(path, faults) {
      const e = files.get(path)
      if (!e) throw new Error(`setFaults: no file at ${path}; add it with addFile first`)
      checkFaults(path, faults)
      const next: Record<string, unknown> = { ...e.faults }
      for (const [k, v] of Object.entries(faults)) {
        if (v === undefined) delete next[k]
        else next[k] = v
      }
      e.faults = next as Faults
      if ('failStatus' in faults || 'failTimes' in faults) e.failsSoFar = 0
      if ('dropAfterBytes' in faults || 'dropTimes' in faults) e.dropsSoFar = 0
      if ('expireAfterBytes' in faults) e.expireLeft = faults.expireAfterBytes
      for (const wake of e.waiters.splice(0)) wake()
    },
    requestsFor: (path) => requests.filter((r) => r.path === pathOnly(path)),
    bytesServed: (path) => files.get(pathOnly(path))?.bytes ?? 0,
    openResponses: (path) => files.get(pathOnly(path))?.open ?? 0,
    async close() {
      const closing = [primary, second].map((s) => new Promise<void>((r) => s.close(() => r())))
      for (const sock of sockets) sock.destroy()
      await Promise.all(closing)
    }
  }
}
