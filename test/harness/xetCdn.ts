// A stand-in for Hugging Face's Xet bridge CDN, on ANOTHER loopback host
// (127.0.0.2) than the Hub: it serves the bytes behind the signed links the
// Hub's resolve hands out, as the real one does — links that expire (checked
// when a request starts), 400 to any Authorization header (a signed URL takes
// no second credential), a link bound to the Range its resolve request
// carried ("Auth failed: invalid range" for any other), and optionally a
// connection cut every N bytes of transfer (all connections together).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { parseRange } from './httpRange'
import type { ServedFile } from './modelServer'
import { pump } from './pump'

export interface XetOptions {
  /** How long a link works (default an hour). */
  linkLifeMs: number
  /** Whether the link says when it expires (`Expires=` epoch seconds, as signed CDN links do). */
  expiresInLink: boolean
  /** Cut the response that crosses every multiple of this many bytes (all responses together). */
  cutEvery?: number
  /** Per-response pace in bytes/s. */
  throttleBps?: number
}

export interface XetRequest {
  path: string
  range?: string
  authorization?: string
  status: number
  /** Why it was refused (the CDN's message). */
  refused?: string
}

interface Link {
  file: ServedFile
  expiresAt: number
  /** The Range the resolve request carried: the only one this link serves. */
  range?: string
}

export interface XetCdn {
  url: string
  /** A signed link to `file`, bound to `range` when the resolve request carried one. */
  link(file: ServedFile, range?: string): string
  configure(o: Partial<XetOptions>): void
  requests: XetRequest[]
  bytesServed(file: ServedFile): number
  close(): Promise<void>
}

export async function startXetCdn(): Promise<XetCdn> {
  const opts: XetOptions = { linkLifeMs: 3_600_000, expiresInLink: true }
  const links = new Map<string, Link>()
  const requests: XetRequest[] = []
  const served = new Map<string, number>()
  const sockets = new Set<Socket>()
  /** Bytes promised to responses so far, and where the next cut falls. */
  const cuts = { reserved: 0, next: 0 }
  let n = 0

  const refuse = (res: ServerResponse, r: XetRequest, status: number, why: string): void => {
    r.status = status
    r.refused = why
    const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Message>${why}</Message></Error>`
    res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': body.length })
    res.end(body)
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.on('error', () => undefined)
    const u = new URL(req.url ?? '/', 'http://x')
    const r: XetRequest = {
      path: u.pathname,
      range: req.headers.range,
      authorization: req.headers.authorization,
      status: 0
    }
    requests.push(r)
    if (req.headers.authorization) return refuse(res, r, 400, 'Only one auth mechanism allowed')
    const link = links.get(u.pathname)
    if (!link || u.searchParams.get('Signature') !== `sig${u.pathname.slice(5)}`)
      return refuse(res, r, 403, 'Invalid signature')
    if (Date.now() >= link.expiresAt) return refuse(res, r, 403, 'Request has expired')
    if (link.range !== undefined && req.headers.range !== link.range)
      return refuse(res, r, 403, 'Auth failed: invalid range')
    serve(link.file, req, res, r)
  })

  function serve(f: ServedFile, req: IncomingMessage, res: ServerResponse, r: XetRequest): void {
    const range = parseRange(req.headers.range, f.size)
    const h: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      ETag: `"${f.sha256}"`
    }
    if (range.kind === 'unsatisfiable') {
      r.status = 416
      res.writeHead(416, { ...h, 'Content-Range': `bytes */${f.size}`, 'Content-Length': 0 })
      return void res.end()
    }
    const start = range.kind === 'partial' ? range.start : 0
    const length = range.kind === 'partial' ? range.end - range.start + 1 : f.size
    if (range.kind === 'partial') h['Content-Range'] = `bytes ${start}-${range.end}/${f.size}`
    r.status = range.kind === 'partial' ? 206 : 200
    res.writeHead(r.status, { ...h, 'Content-Length': length })
    if (req.method === 'HEAD') return void res.end()
    let limit = length
    let after: 'end' | 'drop' = 'end'
    if (opts.cutEvery) {
      if (cuts.next === 0) cuts.next = opts.cutEvery
      if (cuts.reserved + limit > cuts.next) {
        limit = Math.max(0, cuts.next - cuts.reserved)
        after = 'drop'
        cuts.next += opts.cutEvery
      }
      cuts.reserved += limit
    }
    void pump(res, {
      seed: f.seed,
      start,
      limit,
      after,
      rate: () => opts.throttleBps,
      onBytes: (b) => served.set(f.path, (served.get(f.path) ?? 0) + b)
    })
  }

  server.on('connection', (s) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  server.on('clientError', (_e, s) => s.destroy())
  await new Promise<void>((resolve, reject) => {
    server.on('error', reject) // kept for the server's life
    server.listen(0, '127.0.0.2', () => resolve())
  })
  const url = `http://127.0.0.2:${(server.address() as AddressInfo).port}`

  return {
    url,
    link(file, range) {
      const id = `${++n}`
      const expiresAt = Math.ceil((Date.now() + opts.linkLifeMs) / 1000) * 1000
      links.set(`/xet/${id}`, { file, expiresAt, range })
      const expires = opts.expiresInLink ? `Expires=${expiresAt / 1000}&` : ''
      return `${url}/xet/${id}?${expires}Signature=sig${id}&Key-Pair-Id=K2JCJMDEHXQW5F`
    },
    configure(o) {
      Object.assign(opts, o)
      if ('cutEvery' in o) Object.assign(cuts, { reserved: 0, next: 0 })
    },
    requests,
    bytesServed: (f) => served.get(f.path) ?? 0,
    async close() {
      const closing = new Promise<void>((r) => server.close(() => r()))
      for (const s of sockets) s.destroy()
      await closing
    }
  }
}
