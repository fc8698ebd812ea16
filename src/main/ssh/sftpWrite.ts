// Writes a local file's bytes [from, size) into an existing remote file over
// SFTP, many WRITE requests in flight at once (as ssh2's fastPut pipelines
// them): one request per round trip would leave a fast link idle. The remote
// file is opened without truncation, so what it already holds below `from`
// stays; the caller decides `from` (podPush.ts checks that prefix first).
// The file is read once, in order, and the writes are issued in offset order:
// the caller hashes what it reads as it goes (`onData`), and OpenSSH's
// sftp-server, which runs requests one after another, grows the remote file
// without holes.
import { open as openLocal } from 'node:fs/promises'
import type { SFTPWrapper } from 'ssh2'

export interface SftpWriteOptions {
  /** Bytes per WRITE request. OpenSSH takes up to 256 KiB; ssh2 splits larger ones. */
  chunk?: number
  /** WRITE requests in flight at once. */
  concurrency?: number
  /** Called as each write is issued, with its length (what goes on the wire). */
  onSent?(bytes: number): void
  /** Awaited before each write is issued (tests hold a transfer at an offset). */
  beforeWrite?(offset: number): Promise<void> | void
  /** Every byte read, once, in file order (before it is written). */
  onData?(data: Buffer): void
  /** Stops issuing writes; the promise rejects with the signal's reason. */
  signal?: AbortSignal
}

const DEFAULT_CHUNK = 64 * 1024
const DEFAULT_CONCURRENCY = 64
/** The file is read this much at a time (then cut into WRITE requests). */
const READ_SIZE = 1 << 20

export async function sftpWriteFrom(
  sftp: SFTPWrapper,
  localPath: string,
  remotePath: string,
  from: number,
  size: number,
  o: SftpWriteOptions = {}
): Promise<void> {
  const chunk = o.chunk ?? DEFAULT_CHUNK
  const local = await openLocal(localPath, 'r')
  let handle: Buffer | undefined
  let ok = false
  try {
    handle = await sftpCall<Buffer>((cb) => sftp.open(remotePath, 'r+', cb))
    const remote = handle
    const window = new WriteWindow(Math.max(1, o.concurrency ?? DEFAULT_CONCURRENCY))
    const readSize = Math.max(chunk, Math.floor(READ_SIZE / chunk) * chunk)
    for (let at = from; at < size;) {
      // A fresh buffer per read: the writes in flight still hold the last one's slices.
      const buf = Buffer.allocUnsafe(Math.min(readSize, size - at))
      const { bytesRead } = await local.read(buf, 0, buf.length, at)
      if (bytesRead !== buf.length) throw new Error(`${localPath} changed while it was being sent.`)
      o.onData?.(buf)
      for (let off = 0; off < buf.length; off += chunk) {
        const len = Math.min(chunk, buf.length - off)
        await o.beforeWrite?.(at + off)
        await window.slot(o.signal)
        o.onSent?.(len)
        window.add(sftpCall<void>((cb) => sftp.write(remote, buf, off, len, at + off, cb)))
      }
      at += buf.length
    }
    await window.drain(o.signal)
    ok = true
  } finally {
    await local.close()
    const h = handle
    // After a failure the channel may be gone, and a request on it is never answered.
    const closing = h ? sftpCall<void>((cb) => sftp.close(h, cb)).catch(() => undefined) : null
    if (ok) await closing
  }
}

/** At most `size` requests in flight; the first failure fails every later step. */
class WriteWindow {
  private inFlight = 0
  private failure: { err: unknown } | null = null
  private wake: (() => void) | null = null

  constructor(private readonly size: number) {}

  add(p: Promise<void>): void {
    this.inFlight++
    p.then(
      () => this.settle(null),
      (err: unknown) => this.settle({ err })
    )
  }

  private settle(failure: { err: unknown } | null): void {
    this.inFlight--
    this.failure ??= failure
    const w = this.wake
    this.wake = null
    w?.()
  }

  /** Resolves when another request may go out. */
  async slot(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure.err
      signal?.throwIfAborted()
      if (this.inFlight < this.size) return
      await this.next(signal)
    }
  }

  /** Resolves when every request has been answered. */
  async drain(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure.err
      // A dropped link may never answer what is in flight: the abort ends the wait.
      signal?.throwIfAborted()
      if (this.inFlight === 0) return
      await this.next(signal)
    }
  }

  private next(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const onAbort = (): void => resolve()
      signal?.addEventListener('abort', onAbort, { once: true })
      this.wake = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
    })
  }
}

/** An ssh2 SFTP call (callback style) as a promise. */
export function sftpCall<T>(
  fn: (cb: (err: Error | null | undefined, v?: T) => void) => void
): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))))
}
