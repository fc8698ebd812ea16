// `podpull serve`: the built renderer over HTTP and the same handler table
// over a WebSocket. Loopback by default; every WebSocket must carry this run's
// random token and, when it comes from a browser, our own Origin.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { isIPv4, type AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { API_EVENTS, type ApiEvents, type ApiHandlers } from '../../shared/api'
import { invokeMethod, toApiError } from '../api/dispatch'
import { CSP_HEADER } from '../../shared/csp'

import type { EventSource } from '../api/eventSource'
import type { HubImages } from '../api/sourceServices'
import { imageIdFromRequest } from '../../shared/hubImagePath'

export interface HeadlessOptions {
  handlers: ApiHandlers
  events: EventSource
  /** The built renderer (out/renderer). */
  staticDir: string
  host?: string
  port?: number
  /** Fixed token (tests); a random one otherwise. */
  token?: string
  /** Hub preview images, answered under /hub-image/ like the app:// scheme does. */
  images?: Pick<HubImages, 'get'>
}

export interface HeadlessServer {
  url: string
  /** The URL to open: carries the token. */
  pageUrl: string
  token: string
  port: number
  close(): Promise<void>
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2'
}

const SECURITY_HEADERS = {
  'Content-Security-Policy': CSP_HEADER,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store'
}

/** True for an address only this machine can reach: localhost, ::1 and all of
 *  127.0.0.0/8 (not just 127.0.0.1). Brackets around an IPv6 literal are allowed. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return h === 'localhost' || h === '::1' || (isIPv4(h) && h.startsWith('127.'))
}

/** A Host header naming a loopback address on our port ("127.0.0.5:8080"). */
function isLoopbackHostHeader(h: string | undefined, port: number): boolean {
  const m = h ? /^(\[[^\]]*\]|[^:]+):(\d+)$/.exec(h) : null
  return !!m && Number(m[2]) === port && isLoopback(m[1]!)
}

/** What `serve` prints when bound to a non-loopback address. */
export function publicBindWarning(host: string): string | null {
  if (isLoopback(host)) return null
  return (
    `Warning: the dashboard listens on ${host}, reachable from the network. ` +
    'Plain HTTP: the access token in the page URL, and everything the dashboard shows, ' +
    'travel unencrypted; anyone who sees the token can control PodPull. ' +
    'Use it only on a network you trust, or keep the default 127.0.0.1 and use an SSH tunnel.'
  )
}

function sameToken(given: string | null, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** A preview image main fetched for the page (the page never fetches remote hosts). */
async function serveImage(
  images: Pick<HubImages, 'get'> | undefined,
  id: string,
  req: IncomingMessage,
  res: ServerResponse
): Promise<void> {
  const img = req.method === 'GET' || req.method === 'HEAD' ? await images?.get(id) : null
  if (!img) {
    res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' }).end('Not found')
    return
  }
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': img.mime,
    'Cache-Control': 'private, max-age=86400'
  })
  res.end(req.method === 'HEAD' ? undefined : img.body)
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405).end()
    return
  }
  const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
  const rel = pathname === '/' ? 'index.html' : pathname.slice(1)
  const file = resolve(root, normalize(rel))
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(404).end()
    return
  }
  try {
    const s = await stat(file)
    if (!s.isFile()) throw new Error('not a file')
    const body = await readFile(file)
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream'
    })
    res.end(req.method === 'HEAD' ? undefined : body)
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found')
  }
}

/** Open connections at most: a flood of half-open ones must not take the file
 *  descriptors that downloads need. */
export const MAX_CONNECTIONS = 128

/** Keeps at most MAX_CONNECTIONS sockets: past it, the oldest that has not
 *  sent a whole request head yet (half-open, idle) is closed for the new one,
 *  so a flood cannot shut out the user's own page; heads must come in 10 s. */
function capConnections(http: Server): void {
  const waiting = new Set<import('node:net').Socket>()
  http.headersTimeout = 10_000
  http.requestTimeout = 60_000
  http.on('connection', (socket) => {
    waiting.add(socket)
    socket.once('close', () => waiting.delete(socket))
    if (waiting.size > MAX_CONNECTIONS) {
      const oldest = waiting.values().next().value
      waiting.delete(oldest!)
      oldest!.destroy()
    }
  })
  const busy = (socket: import('node:net').Socket): void => void waiting.delete(socket)
  http.on('request', (req: IncomingMessage) => busy(req.socket))
  http.on('upgrade', (req: IncomingMessage) => busy(req.socket))
}

export async function startHeadlessServer(opts: HeadlessOptions): Promise<HeadlessServer> {
  const host = opts.host ?? '127.0.0.1'
  const token = opts.token ?? randomBytes(24).toString('base64url')
  const root = resolve(opts.staticDir)
  try {
    await stat(join(root, 'index.html'))
  } catch {
    throw new Error(
      `The dashboard is not built (${root}/index.html is missing): run "npm run build" first.`
    )
  }

  let port = 0
  // Refuse other Host names (DNS rebinding) unless the user bound a public address.
  const allowedHost = (h: string | undefined): boolean =>
    !isLoopback(host) || isLoopbackHostHeader(h, port)
  const http: Server = createServer((req, res) => {
    if (!allowedHost(req.headers.host)) {
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('Forbidden host')
      return
    }
    const imageId = imageIdFromRequest(req.url ?? '/')
    const answer = imageId
      ? serveImage(opts.images, imageId, req, res)
      : serveStatic(root, req, res)
    answer.catch(() => res.writeHead(500).end())
  })
  capConnections(http)
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 })
  // A client that misbehaves (reset mid-handshake, garbage, oversize frames)
  // must never take the server, and the downloads running in it, down: every
  // socket gets an error listener, so no 'error' event goes unhandled.
  wss.on('error', () => undefined)
  http.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy()
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  })

  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy())
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://x')
    } catch {
      socket.destroy()
      return
    }
    const refuse = (status: number, why: string): void => {
      socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    if (url.pathname !== '/api') return refuse(404, 'Not Found')
    if (!allowedHost(req.headers.host)) return refuse(403, 'Forbidden')
    if (!sameToken(url.searchParams.get('token'), token)) return refuse(401, 'Unauthorized')
    // A browser always sends Origin; it must be the page we served (same host:port).
    const origin = req.headers.origin
    if (origin !== undefined && origin !== `http://${req.headers.host}`)
      return refuse(403, 'Forbidden')
    wss.handleUpgrade(req, socket, head, (ws) => attachClient(ws, opts))
  })

  await new Promise<void>((ok, fail) => {
    http.once('error', fail)
    http.listen(opts.port ?? 0, host, () => ok())
  })
  port = (http.address() as AddressInfo).port
  const shownHost = host.includes(':') ? `[${host}]` : host
  const url = `http://${shownHost}:${port}`
  return {
    url,
    pageUrl: `${url}/?token=${token}`,
    token,
    port,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      wss.close()
      http.closeAllConnections()
      await new Promise<void>((ok) => http.close(() => ok()))
    }
  }
}

interface CallMessage {
  t: 'call'
  id: number
  m: string
  a: unknown
}

function parseCall(data: unknown): CallMessage | null {
  try {
    const msg = JSON.parse(String(data)) as Partial<CallMessage>
    if (msg && msg.t === 'call' && typeof msg.id === 'number' && typeof msg.m === 'string') {
      return msg as CallMessage
    }
  } catch {
    // fall through
  }
  return null
}

/** Bytes queued to one client before we give up on it (it is not reading). */
const MAX_CLIENT_BACKLOG = 16 << 20

function attachClient(ws: WebSocket, opts: HeadlessOptions): void {
  const send = (msg: unknown): void => {
    if (ws.readyState !== ws.OPEN) return
    // A client that stops reading would make us buffer events without end.
    if (ws.bufferedAmount > MAX_CLIENT_BACKLOG) return ws.terminate()
    ws.send(JSON.stringify(msg))
  }
  // ws emits 'error' for protocol violations (oversize or malformed frames)
  // and resets; it closes the socket itself, we only keep it from throwing.
  ws.on('error', () => ws.terminate())
  const listeners = API_EVENTS.map((name) => {
    const cb = (p: unknown): void => send({ t: 'ev', n: name, p })
    opts.events.on(name, cb as (payload: ApiEvents[typeof name]) => void)
    return () => opts.events.off(name, cb as (payload: ApiEvents[typeof name]) => void)
  })
  ws.on('close', () => listeners.forEach((off) => off()))
  ws.on('message', (data) => {
    const call = parseCall(data)
    if (!call) {
      send({
        t: 'res',
        id: -1,
        ok: false,
        e: { code: 'bad-request', message: 'Malformed message.' }
      })
      return
    }
    invokeMethod(opts.handlers, call.m, call.a).then(
      (v) => send({ t: 'res', id: call.id, ok: true, v: v ?? null }),
      (err) => send({ t: 'res', id: call.id, ok: false, e: toApiError(err) })
    )
  })
}
