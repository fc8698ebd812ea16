// A fast body path for `http:` and `https:` downloads. Reading a response
// through undici (or any 'data' stream) makes Node allocate a fresh buffer
// for every socket read (over TLS: every 16 KiB record); at loopback / LAN
// speed those allocations (page faults, GC) and the stream machinery cost
// more than the transfer itself (measured: ~0.5x curl on one connection). A
// socket opened with `onread` (plain or TLS, Node ≥ 20) reads into ONE reused
// buffer: successive reads fill it back to back, and the caller's synchronous
// sink writes each filled batch at its file offset before the buffer is
// reused (measured: faster than curl).
//
// It speaks only the simple case: one GET, `Connection: close`, a final
// answer with Content-Length and no Transfer-Encoding. Everything else
// (redirects, errors the caller wants undici to classify, chunked bodies) is
// handed back as headers, and the caller falls back to httpClient.get().
import net from 'node:net'
import tls from 'node:tls'
import type { BodyReader, BodySink } from './bodyReader'
import type { HttpOptions } from './httpClient'

export type { BodySink } from './bodyReader'

/** Whether the raw reader speaks `url`'s scheme (else undici carries it). */
export const rawSpeaks = (url: URL): boolean =>
  url.protocol === 'http:' || url.protocol === 'https:'

/** One reused read buffer per connection: big reads, few callbacks, flat memory. */
export const RAW_READ_BUFFER = 2 * 1024 * 1024
/** Room a read gets at least; with less left, the batch goes to the sink first. */
const MIN_READ = 256 * 1024
/** A slow link still gets its bytes to the sink (disk, progress) this often. */
const BATCH_MAX_DELAY_MS = 25
/** Status line + headers larger than this are not an answer we want. */
const MAX_HEAD = 64 * 1024

export interface RawResponse extends BodyReader {
  status: number
  headers: Record<string, string | undefined>
  /** Body length from Content-Length; null when absent (or chunked). */
  length: number | null
}

/** Read buffers of finished requests, for the next ones: a download asks one
 *  request per span, and a fresh 2 MiB buffer each time costs page faults and
 *  garbage collection for every span. Enough are kept for a few downloads of
 *  8 connections, and only while requests keep coming (an idle app holds none). */
const spareBuffers: Buffer[] = []
const MAX_SPARE_BUFFERS = 32
const SPARE_KEEP_MS = 10_000
let spareTimer: NodeJS.Timeout | undefined

function keepSpare(buf: Buffer): void {
  if (spareBuffers.length >= MAX_SPARE_BUFFERS) return
  spareBuffers.push(buf)
  if (spareTimer) return void spareTimer.refresh()
  spareTimer = setTimeout(() => {
    spareBuffers.length = 0
    spareTimer = undefined
  }, SPARE_KEEP_MS).unref()
}

/** TLS sessions per host:port, so the next request's handshake is a resumption. */
const sessions = new Map<string, Buffer>()
const MAX_SESSIONS = 64

export function requestHead(url: URL, opts: Omit<HttpOptions, 'headersTimeoutMs'>): string {
  const lines = [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    'User-Agent: PodPull',
    'Accept-Encoding: identity',
    'Connection: close'
  ]
  // Asked per URL, like every hop in httpClient: a token goes to its own host only.
  const auth = opts.auth(url)
  if (auth) lines.push(`Authorization: ${auth}`)
  if (opts.range) lines.push(`Range: bytes=${opts.range.from}-${opts.range.to ?? ''}`)
  if (opts.range && opts.ifRange) lines.push(`If-Range: ${opts.ifRange}`)
  // A value read back from disk (a sidecar's validator) must not add a header of its own.
  if (lines.some((l) => /[\r\n]/.test(l)))
    throw new MalformedAnswer('a request header would carry a CR or LF')
  return lines.join('\r\n') + '\r\n\r\n'
}

/** An answer no well-behaved server sends and no client may guess at: a bare
 *  CR or LF inside a header (a value smuggling another header), Content-Length
 *  headers that disagree (which one is the file's size?). */
export class MalformedAnswer extends Error {
  constructor(readonly reason: string) {
    super(`malformed response: ${reason}`)
    this.name = 'MalformedAnswer'
  }
}

/** RFC 9110's token: what a header name may be made of. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Status and lower-cased headers (repeated ones joined with ", ", as RFC 9110
 *  reads them); undefined when the status line is not HTTP/1.x. Throws
 *  MalformedAnswer on a head that could be read two ways. */
export function parseHead(
  head: string
): { status: number; headers: Record<string, string | undefined> } | undefined {
  const lines = head.split('\r\n')
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')
  if (!m) return undefined
  const headers: Record<string, string | undefined> = {}
  for (const line of lines.slice(1)) {
    if (/[\r\n]/.test(line)) throw new MalformedAnswer('a header carries a bare CR or LF')
    const i = line.indexOf(':')
    const k = line.slice(0, Math.max(i, 0))
    if (i <= 0 || !HEADER_NAME.test(k))
      throw new MalformedAnswer('a header line is not name: value')
    const key = k.toLowerCase()
    const value = line.slice(i + 1).trim()
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`
  }
  if (headers['content-length'] !== undefined)
    headers['content-length'] = oneLength(headers['content-length'])
  return { status: Number(m[1]), headers }
}

/** The one Content-Length a head means: repeats must agree, and be a number. */
function oneLength(joined: string): string {
  const values = new Set(joined.split(',').map((v) => v.trim()))
  if (values.size > 1) throw new MalformedAnswer('Content-Length headers that disagree')
  const [value] = values
  if (!/^\d+$/.test(value!)) throw new MalformedAnswer('a Content-Length that is not a size')
  return value!
}

const contentLength = (h: Record<string, string | undefined>): number | null =>
  h['transfer-encoding'] === undefined && h['content-length'] !== undefined
    ? Number(h['content-length'])
    : null

/**
 * Sends one GET for `url` (http: or https:) and resolves once the head arrived.
 * The socket is paused from the end of the head until pump() is called, and
 * body bytes that came with the head are kept (copied) for the sink.
 */
export function rawGet(
  url: URL,
  opts: Omit<HttpOptions, 'headersTimeoutMs'>,
  buffer?: Buffer
): Promise<RawResponse> {
  const buf = buffer ?? spareBuffers.pop() ?? Buffer.allocUnsafe(RAW_READ_BUFFER)
  // Given back once its socket is closed: no read can land in it after that.
  const giveBack = buffer ? undefined : (): void => keepSpare(buf)
  return new Promise((resolve, reject) =>
    new RawRequest(url, opts, buf, resolve, reject, giveBack).start()
  )
}

class RawRequest {
  private socket: net.Socket | undefined
  private head: Buffer[] = []
  private headLength = 0
  private res: RawResponse | undefined
  private early: Buffer | undefined
  private sink: BodySink | undefined
  private left = 0
  /** Body bytes in `buffer[handed, filled)` not yet given to the sink, since `since`. */
  private filled = 0
  private handed = 0
  private since = 0
  /** The connection failed after the head, before pump(). */
  private lost: Error | undefined
  private settle: { resolve: () => void; reject: (err: Error) => void } | undefined
  /** Hands a held batch over once it is BATCH_MAX_DELAY_MS old, however quiet the server. */
  private lateFlush: NodeJS.Timeout | undefined
  private finished = false
  /** The latest bandwidth wait: reading goes on when it settles. */
  private held: Promise<void> | undefined

  constructor(
    private readonly url: URL,
    private readonly opts: Omit<HttpOptions, 'headersTimeoutMs'>,
    private readonly buffer: Buffer,
    private readonly resolveHead: (r: RawResponse) => void,
    private readonly rejectHead: (err: Error) => void,
    /** The buffer is free again (called once, after the socket closed). */
    private readonly release?: () => void
  ) {}

  start(): void {
    const { signal } = this.opts
    if (signal.aborted) return this.rejectBeforeConnect(signal.reason as Error)
    let head: string
    try {
      head = requestHead(this.url, this.opts)
    } catch (err) {
      return this.rejectBeforeConnect(err as Error)
    }
    signal.addEventListener('abort', this.onAbort, { once: true })
    const socket = this.connect()
    this.socket = socket
    if (this.release) socket.once('close', this.release)
    socket.setNoDelay(true)
    socket.write(head)
    socket.on('error', (err) => this.fail(err))
    socket.on('end', () => this.fail(new Error('the connection closed early')))
    socket.on('close', () => this.fail(new Error('the connection closed early')))
  }

  private connect(): net.Socket {
    const host = this.url.hostname.replace(/^\[(.*)\]$/, '$1')
    const onread = {
      // Each read lands after the bytes not yet handed over: one sink call per batch.
      buffer: () => this.buffer.subarray(this.filled),
      callback: (n: number, buf: Buffer) => this.onRead(n, buf)
    }
    if (this.url.protocol !== 'https:')
      return net.connect({ host, port: Number(this.url.port || 80), onread })
    const port = Number(this.url.port || 443)
    const key = `${host}:${port}`
    // Node's TLS sockets honour `onread` (the reads are decrypted into our
    // buffer; checked in engineTls.test.ts), though @types/node omits it.
    const options: tls.ConnectionOptions & { onread: net.OnReadOpts } = {
      host,
      port,
      servername: net.isIP(host) ? undefined : host,
      ALPNProtocols: ['http/1.1'],
      session: sessions.get(key),
      onread
    }
    const socket = tls.connect(options)
    socket.on('session', (s: Buffer) => {
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!)
      sessions.set(key, s)
    })
    return socket
  }

  private readonly onAbort = (): void => this.fail(this.opts.signal.reason as Error)

  private rejectBeforeConnect(err: Error): void {
    this.release?.()
    this.rejectHead(err)
  }

  /** Returns false to pause the socket (head done, nobody pumping yet). */
  private onRead(n: number, buf: Buffer): boolean {
    if (this.finished) return false
    if (!this.res) return this.readHead(buf.subarray(0, n))
    return this.gather(n)
  }

  /** A read added `n` bytes at `filled`: hand the batch over when full, old or complete. */
  private gather(n: number): boolean {
    if (this.filled === this.handed) this.since = Date.now()
    const take = Math.min(n, this.left)
    this.filled += take
    this.left -= take
    const full = this.buffer.length - this.filled < Math.min(MIN_READ, this.buffer.length / 4)
    if (this.left > 0 && !full && Date.now() - this.since < BATCH_MAX_DELAY_MS) {
      // A server that pauses must not hold bytes already read back from the
      // file (and from progress): they are handed over when the batch time is up.
      this.lateFlush ??= setTimeout(this.flushLate, BATCH_MAX_DELAY_MS)
      return true
    }
    this.cancelLateFlush()
    const [start, end] = [this.handed, this.filled]
    this.filled = this.handed = 0
    return this.deliver(this.buffer, start, end)
  }

  private readonly flushLate = (): void => {
    this.lateFlush = undefined
    if (this.finished || this.filled === this.handed || !this.sink) return
    // The next read already aims past `filled`: keep appending there, only the
    // bytes up to it are handed over now.
    const start = this.handed
    this.handed = this.filled
    if (!this.deliver(this.buffer, start, this.filled)) this.socket?.pause()
  }

  private cancelLateFlush(): void {
    if (this.lateFlush) clearTimeout(this.lateFlush)
    this.lateFlush = undefined
  }

  private readHead(chunk: Buffer): boolean {
    // The head may span several reads; the buffer is reused, so keep copies.
    this.head.push(Buffer.from(chunk))
    this.headLength += chunk.length
    const all = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head)
    const end = all.indexOf('\r\n\r\n')
    if (end < 0) {
      if (this.headLength > MAX_HEAD) this.fail(new Error('response head too large'))
      return true
    }
    let parsed: ReturnType<typeof parseHead>
    try {
      parsed = parseHead(all.subarray(0, end).toString('latin1'))
    } catch (err) {
      this.fail(err as Error)
      return false
    }
    if (!parsed) {
      this.fail(new Error('malformed response'))
      return false
    }
    this.head = []
    const length = contentLength(parsed.headers)
    const rest = all.subarray(end + 4)
    this.early = rest.length > 0 ? rest : undefined
    this.left = length ?? 0
    this.res = {
      ...parsed,
      length,
      pump: (sink) => this.pump(sink),
      close: () => this.finish(),
      hold: (until) => this.hold(until)
    }
    this.resolveHead(this.res)
    return false // paused until pump()
  }

  private pump(sink: BodySink): Promise<void> {
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject }
      this.sink = sink
      const early = this.early
      this.early = undefined
      // Bytes that came with the head are good even when the socket is gone since.
      if (early) {
        const stop = Math.min(early.length, this.left)
        this.left -= stop
        if (!this.deliver(early, 0, stop)) return
      }
      if (this.finished) return
      if (this.lost) return this.fail(this.lost)
      if (this.left === 0) return this.finish()
      // The early bytes may have run past the bandwidth credit: the hold decides.
      if (!this.held) this.socket?.resume()
    })
  }

  /** Pausing the socket leaves the bytes in the kernel: TCP slows the sender. */
  private hold(until: Promise<void>): void {
    this.held = until
    this.socket?.pause()
    void until.then(() => {
      if (this.held !== until) return
      this.held = undefined
      if (!this.finished) this.socket?.resume()
    })
  }

  /** Hands body bytes to the sink (counted against Content-Length by the caller). */
  private deliver(buf: Buffer, start: number, stop: number): boolean {
    let more: boolean
    try {
      more = stop === start || this.sink!(buf, start, stop)
    } catch (err) {
      this.fail(err as Error)
      return false
    }
    if (!more || this.left === 0) {
      this.finish()
      return false
    }
    return true
  }

  /** Body complete (or the sink had enough): close and resolve. */
  private finish(): void {
    if (this.finished) return
    this.finished = true
    this.cleanup()
    this.settle?.resolve()
  }

  private fail(err: Error): void {
    if (this.finished) return
    if (this.res && !this.sink) {
      // Nobody reads yet: remember why, the sink still gets the bytes already here.
      this.lost ??= err
      this.cleanup()
      return
    }
    // Bytes in hand are good bytes: they reach the file even when the link broke.
    if (this.filled > this.handed && this.sink) {
      const [start, end] = [this.handed, this.filled]
      this.filled = this.handed = 0
      try {
        this.sink(this.buffer, start, end)
      } catch (sinkErr) {
        err = sinkErr as Error
      }
    }
    this.finished = true
    this.cleanup()
    if (!this.res) this.rejectHead(err)
    else this.settle?.reject(err)
  }

  private cleanup(): void {
    this.cancelLateFlush()
    this.opts.signal.removeEventListener('abort', this.onAbort)
    this.socket?.destroy()
  }
}
