// SHA-256 of the `.part` computed while it downloads, so the check after a
// 20 GB download does not read 20 GB again. Bytes are hashed in file order up
// to the frontier: the end of the gapless written prefix (the lowest
// segment's progress, then the next segment once it joins). The reading and
// hashing run on a worker thread: the main thread keeps decrypting and
// writing while another core hashes what the page cache still holds.
import { closeSync, openSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import type { Segment } from './segmentPlanner'

/** Runs in the worker (eval'd CommonJS: no separate bundle entry needed). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { readSync, readlinkSync } = require('node:fs')
const { createHash } = require('node:crypto')
if (workerData.idle) {
  // Linux schedules each thread as a task of its own: nice 19 on this one
  // alone leaves the download's threads their whole share of the CPU.
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
  require('node:os').setPriority(tid, 19)
}
const fd = workerData.fd
const hash = createHash('sha256')
const buf = Buffer.allocUnsafe(4 << 20)
const hashed = new BigInt64Array(workerData.hashed)
let pos = 0
parentPort.on('message', ({ end, final }) => {
  while (pos < end) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos)
    if (n <= 0) throw new Error('the .part ended at ' + pos + ', before ' + end)
    hash.update(buf.subarray(0, n))
    pos += n
    Atomics.store(hashed, 0, BigInt(pos))
  }
  if (final) {
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

/**
 * Whether a download without a sha256 to check can be hashed as it streams,
 * for free: only where one thread's priority can be lowered on its own
 * (Linux). SHA-256 costs about as much CPU as the TLS of an HTTPS download;
 * at normal priority that CPU is taken from the download on a fast link.
 */
export const IDLE_HASHING = process.platform === 'linux'

export class FrontierHash {
  private readonly worker: Worker
  private sent = 0
  private readonly failed: Promise<never>
  /** Bytes the worker has hashed, written by it (shared memory: no message per read). */
  private readonly hashed = new BigInt64Array(new SharedArrayBuffer(8))
  /** The worker failed or exited: nothing is worth waiting for. */
  dead = false

  /** `idle`: the thread runs at the lowest priority (IDLE_HASHING), so it
   *  hashes only with CPU the download leaves unused and may lag behind. */
  constructor(path: string, opts: { idle?: boolean } = {}) {
    // Opened here, now: the thread may start after a short download is already
    // installed under its final name (the descriptor follows the rename). The
    // descriptor is the process's; this side closes it once the thread is gone.
    const fd = openSync(path, 'r')
    const workerData = { fd, hashed: this.hashed.buffer, idle: !!opts.idle }
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData })
    this.worker.once('exit', () => closeSync(fd))
    this.worker.unref()
    this.failed = new Promise((_, reject) => {
      this.worker.once('error', reject)
      this.worker.once('exit', (code) => reject(new Error(`the hashing thread exited (${code})`)))
    })
    this.failed.catch(() => void (this.dead = true)) // observed in digest()
  }

  /** How far the worker has hashed. */
  done(): number {
    return Number(Atomics.load(this.hashed, 0))
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

/** A FrontierHash of the `.part`, or undefined when it cannot be opened (the
 *  download goes on; a checked download hashes the file at the end instead). */
export function startFrontierHash(path: string, opts: { idle?: boolean } = {}) {
  try {
    return new FrontierHash(path, opts)
  } catch {
    return undefined
  }
}

/** How far one connection may run ahead of the hashing thread: about 0.1 s of
 *  hashing, so the check after the download is over at once; half of it is
 *  what the thread still has to do when the connection reads on (the gate is
 *  looked at every 25 ms: a smaller lead would leave the thread idle between). */
export const HASH_LEAD_MAX = 128 << 20

/**
 * Holds a single connection while it runs more than HASH_LEAD_MAX ahead of
 * the hashing thread (a link faster than SHA-256 on this CPU, or a busy
 * machine starving the thread), until it is back within half of that: both
 * then finish together, where the rest of the hash would otherwise be
 * computed after the download. The lead counts from the least one seen, so a
 * resumed download is not held while the thread hashes what an earlier run
 * wrote (that is hashed in parallel, as before). Several connections are not
 * held: their frontier is the lowest segment's, so a lead there is the plan's.
 */
export class HashLeadGate {
  private gate: { until: Promise<void>; open: () => void } | undefined
  private least = Infinity

  constructor(private readonly hash: Pick<FrontierHash, 'done' | 'dead'>) {}

  /** Called on the ticker with the bytes written so far: closes or opens the gate. */
  check(written: number): void {
    const lead = written - this.hash.done()
    this.least = Math.min(this.least, lead)
    const over = lead - this.least
    if (!this.gate && over > HASH_LEAD_MAX && !this.hash.dead) {
      let open!: () => void
      const until = new Promise<void>((resolve) => (open = resolve))
      this.gate = { until, open }
    } else if (this.gate && (over <= HASH_LEAD_MAX / 2 || this.hash.dead)) this.release()
  }

  /** A wait for the reader to honour, or undefined to read on. */
  wait(): Promise<void> | undefined {
    return this.gate?.until
  }

  release(): void {
    this.gate?.open()
    this.gate = undefined
  }
}
