// A fast body path for plain `http:` downloads. Reading a response through
// undici (or any 'data' stream) makes Node allocate a fresh buffer for every
// socket read; at loopback / LAN speed those allocations (page faults, GC)
// cost more than the transfer itself (measured: ~0.5x curl on one
// connection). A socket opened with `onread` reads into ONE reused buffer,
// and the caller's synchronous sink writes each slice at its file offset
// before the buffer is reused (measured: faster than curl).
//
// It speaks only the simple case: one GET, `Connection: close`, a final
// answer with Content-Length and no Transfer-Encoding. Everything else
// (redirects, errors the caller wants undici to classify, chunked bodies) is
// handed back as headers, and the caller falls back to httpClient.get().
// HTTPS stays on undici: TLS sockets do not support `onread` in Node 20.
import net from 'node:net'
import type { HttpOptions } from './httpClient'

/** One reused read buffer per connection: big reads, few callbacks, flat memory. */
export const RAW_READ_BUFFER = 2 * 1024 * 1024
/** Status line + headers larger than this are not an answer we want. */
const MAX_HEAD = 64 * 1024

/** Receives body bytes `buf[start, end)`; must not keep `buf` (it is reused). Returns false to stop. */
export type BodySink = (buf: Buffer, start: number, end: number) => boolean

export interface RawResponse {
  status: number
  headers: Record<string, string | undefined>
  /** Body length from Content-Length; null when absent (or chunked). */
  length: number | null
  /**
   * Feeds the body to `sink` until Content-Length bytes arrived or the sink
   * returns false; rejects when the connection ends early or fails. Called once.
   */
  pump: (sink: BodySink) => Promise<void>
  /** Closes the connection without reading the body. */
  close: () => void
}

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
  return lines.join('\r\n') + '\r\n\r\n'
}

/** Status and lower-cased headers (first value wins) from the head, or undefined when malformed. */
export function parseHead(
  head: string
): { status: number; headers: Record<string, string | undefined> } | undefined {
  const lines = head.split('\r\n')
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')
  if (!m) return undefined
  const headers: Record<string, string | undefined> = {}
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':')
    if (i <= 0) continue
    const k = line.slice(0, i).trim().toLowerCase()
    headers[k] ??= line.slice(i + 1).trim()
  }
  return { status: Number(m[1]), headers }
}

const contentLength = (h: Record<string, string | undefined>): number | null =>
  h['transfer-encoding'] === undefined && /^\d+$/.test(h['content-length'] ?? '')
    ? Number(h['content-length'])
    : null

/**
 * Sends one GET for `url` (http: only) and resolves once the head arrived.
 * The socket is paused from the end of the head until pump() is called, and
 * body bytes that came with the head are kept (copied) for the sink.
 */
export function rawGet(
  url: URL,
  opts: Omit<HttpOptions, 'headersTimeoutMs'>,
  buffer: Buffer = Buffer.allocUnsafe(RAW_READ_BUFFER)
): Promise<RawResponse> {
  return new Promise((resolve, reject) =>
    new RawRequest(url, opts, buffer, resolve, reject).start()
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
  /** The connection failed after the head, before pump(). */
  private lost: Error | undefined
  private settle: { resolve: () => void; reject: (err: Error) => void } | undefined
  private finished = false

  constructor(
    private readonly url: URL,
    private readonly opts: Omit<HttpOptions, 'headersTimeoutMs'>,
    private readonly buffer: Buffer,
    private readonly resolveHead: (r: RawResponse) => void,
    private readonly rejectHead: (err: Error) => void
  ) {}

  start(): void {
    const { signal } = this.opts
    if (signal.aborted) return this.rejectHead(signal.reason as Error)
    signal.addEventListener('abort', this.onAbort, { once: true })
    const socket = net.connect({
      host: this.url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(this.url.port || 80),
      onread: { buffer: this.buffer, callback: (n: number, buf: Buffer) => this.onRead(n, buf) }
    })
    this.socket = socket
    socket.setNoDelay(true)
    socket.write(requestHead(this.url, this.opts))
    socket.on('error', (err) => this.fail(err))
    socket.on('end', () => this.fail(new Error('the connection closed early')))
    socket.on('close', () => this.fail(new Error('the connection closed early')))
  }

  private readonly onAbort = (): void => this.fail(this.opts.signal.reason as Error)

  /** Returns false to pause the socket (head done, nobody pumping yet). */
  private onRead(n: number, buf: Buffer): boolean {
    if (this.finished) return false
    if (!this.res) return this.readHead(buf.subarray(0, n))
    return this.deliver(buf, 0, n)
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
    const parsed = parseHead(all.subarray(0, end).toString('latin1'))
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
      close: () => this.finish()
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
      if (early && !this.deliver(early, 0, early.length)) return
      if (this.finished) return
      if (this.lost) return this.fail(this.lost)
      if (this.left === 0) return this.finish()
      this.socket?.resume()
    })
  }

  /** Hands body bytes to the sink, never past Content-Length. */
  private deliver(buf: Buffer, start: number, end: number): boolean {
    const stop = Math.min(end, start + this.left)
    this.left -= stop - start
    let more: boolean
    try {
      more = this.sink!(buf, start, stop)
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
    this.finished = true
    this.cleanup()
    if (!this.res) this.rejectHead(err)
    else this.settle?.reject(err)
  }

  private cleanup(): void {
    this.opts.signal.removeEventListener('abort', this.onAbort)
    this.socket?.destroy()
  }
}
