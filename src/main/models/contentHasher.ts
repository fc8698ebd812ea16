// Hashes the model files the content index does not know yet, one at a time,
// reading at a bounded rate so a running download (which writes to the same
// disk) keeps its speed. The index is saved after every file: stopped at any
// point (an app quit, a crash), the next run skips what was finished.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { HashingProgress } from '../../shared/types'
import { stampOf, type ContentIndex } from './contentIndex'

/** Disk read budget of background hashing: well under what a disk delivers. */
export const DEFAULT_HASH_BYTES_PER_SEC = 64 << 20
const CHUNK = 1 << 20

export interface HashPendingOptions {
  index: ContentIndex
  paths: string[]
  bytesPerSec?: number
  signal?: AbortSignal
  onProgress?: (p: HashingProgress) => void
  /** A file hashed now (not skipped as known): tests count these. */
  onHashed?: (path: string) => void
}

/** Hashes every path the index lacks; resolves with the progress at the end. */
export async function hashPending(o: HashPendingOptions): Promise<HashingProgress> {
  const p: HashingProgress = { done: 0, total: o.paths.length, current: null }
  for (const path of o.paths) {
    if (o.signal?.aborted) break
    const s = await stat(path).catch(() => undefined)
    if (s?.isFile() && o.index.get(path, stampOf(s)) === null) {
      o.onProgress?.({ ...p, current: path })
      const sha = await throttledSha256(path, o.bytesPerSec ?? DEFAULT_HASH_BYTES_PER_SEC, o.signal)
      if (sha === null) break
      // The file changed while it was read: its next stamp gets hashed next time.
      const after = await stat(path).catch(() => undefined)
      if (after && after.size === s.size && after.mtimeMs === s.mtimeMs) {
        o.index.put(path, stampOf(s), sha)
        await o.index.save()
        o.onHashed?.(path)
      }
    }
    p.done++
    o.onProgress?.({ ...p })
  }
  return p
}

/** sha256 read at most `rate` bytes a second; null when aborted. */
async function throttledSha256(
  path: string,
  rate: number,
  signal?: AbortSignal
): Promise<string | null> {
  const hash = createHash('sha256')
  const began = performance.now()
  let read = 0
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK, signal })) {
      hash.update(chunk as Buffer)
      read += (chunk as Buffer).length
      const ahead = (read / rate) * 1000 - (performance.now() - began)
      if (ahead > 1) await sleep(ahead, undefined, { signal })
    }
  } catch (err) {
    if (signal?.aborted) return null
    throw err
  }
  return hash.digest('hex')
}
