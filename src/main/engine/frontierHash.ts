// SHA-256 of the `.part` computed while it downloads, so the check after a
// 20 GB download does not read 20 GB again. Bytes are hashed in file order up
// to the frontier: the end of the gapless written prefix (the lowest
// segment's progress, then the next segment once it joins). The reading and
// hashing run on a worker thread: the main thread keeps decrypting and
// writing while another core hashes what the page cache still holds.
import { Worker } from 'node:worker_threads'
import type { Segment } from './segmentPlanner'

/** Runs in the worker (eval'd CommonJS: no separate bundle entry needed). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { openSync, readSync, closeSync } = require('node:fs')
const { createHash } = require('node:crypto')
const fd = openSync(workerData.path, 'r')
const hash = createHash('sha256')
const buf = Buffer.allocUnsafe(4 << 20)
let pos = 0
parentPort.on('message', ({ end, final }) => {
  while (pos < end) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos)
    if (n <= 0) throw new Error('the .part ended at ' + pos + ', before ' + end)
    hash.update(buf.subarray(0, n))
    pos += n
  }
  if (final) {
    closeSync(fd)
    parentPort.postMessage(hash.digest('hex'))
  }
})
`

/** End of the gapless prefix of the file that the segments have written. */
export function frontierOf(segments: readonly Segment[]): number {
  let pos = 0
  for (const seg of [...segments].sort((a, b) => a.start - b.start)) {
    if (seg.start !== pos) break
    pos = seg.start + seg.done
    if (seg.start + seg.done < seg.end) break
  }
  return pos
}

export class FrontierHash {
  private readonly worker: Worker
  private sent = 0
  private readonly failed: Promise<never>

  constructor(path: string) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path } })
    this.worker.unref()
    this.failed = new Promise((_, reject) => {
      this.worker.once('error', reject)
      this.worker.once('exit', (code) => reject(new Error(`the hashing thread exited (${code})`)))
    })
    this.failed.catch(() => undefined) // observed in digest()
  }

  /** Bytes [0, end) are written: hash them in the background. */
  advance(end: number): void {
    if (end <= this.sent) return
    this.sent = end
    this.worker.postMessage({ end, final: false })
  }

  /** All of [0, size) is written: the hex digest, once the worker has caught up. */
  digest(size: number): Promise<string> {
    const done = new Promise<string>((resolve) => this.worker.once('message', resolve))
    this.worker.postMessage({ end: size, final: true })
    return Promise.race([done, this.failed]).finally(() => void this.worker.terminate())
  }

  /** Paused, failed or restarted: the hash is of no use. */
  stop(): void {
    void this.worker.terminate()
  }
}
