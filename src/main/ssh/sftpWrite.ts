// Writes a local file's bytes [from, size) into an existing remote file over
// SFTP, many WRITE requests in flight at once (as ssh2's fastPut pipelines
// them): one request per round trip would leave a fast link idle. The remote
// file is opened without truncation, so what it already holds below `from`
// stays; the caller decides `from` (podPush.ts checks that prefix first).
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
  /** Stops issuing writes; the promise rejects with the signal's reason. */
  signal?: AbortSignal
}

const DEFAULT_CHUNK = 64 * 1024
const DEFAULT_CONCURRENCY = 64

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
    let next = from
    let failed = false
    const lane = async (): Promise<void> => {
      const buf = Buffer.allocUnsafe(chunk)
      while (next < size && !failed) {
        o.signal?.throwIfAborted()
        const at = next
        const len = Math.min(chunk, size - at)
        next += len
        await o.beforeWrite?.(at)
        o.signal?.throwIfAborted()
        const { bytesRead } = await local.read(buf, 0, len, at)
        if (bytesRead !== len) throw new Error(`${localPath} changed while it was being sent.`)
        o.onSent?.(len)
        await sftpCall<void>((cb) => sftp.write(remote, buf, 0, len, at, cb))
      }
    }
    const wanted = o.concurrency ?? DEFAULT_CONCURRENCY
    const lanes = Math.max(1, Math.min(wanted, Math.ceil((size - from) / chunk)))
    // One failure (the link dropped, the local file changed) stops every lane.
    const results = await Promise.allSettled(
      Array.from({ length: lanes }, () =>
        lane().catch((err: unknown) => {
          failed = true
          throw err
        })
      )
    )
    const first = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (first) throw first.reason
    ok = true
  } finally {
    await local.close()
    const h = handle
    // After a failure the channel may be gone, and a request on it is never answered.
    const closing = h ? sftpCall<void>((cb) => sftp.close(h, cb)).catch(() => undefined) : null
    if (ok) await closing
  }
}

/** An ssh2 SFTP call (callback style) as a promise. */
export function sftpCall<T>(
  fn: (cb: (err: Error | null | undefined, v?: T) => void) => void
): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))))
}
