// SHA-256 of the `.part` computed while it downloads, so the check after a
// 20 GB download does not read 20 GB again. Bytes are hashed in file order up
// to the frontier: the end of the gapless written prefix (the lowest
// segment's progress, then the next segment once it joins). The reading and
// hashing run on a worker thread: the main thread keeps decrypting and
// writing while another core hashes what the page cache still holds. One
// thread serves every download of the process (each file its own hash, in
// turns as their bytes come), so a set of files starts one thread, not one each.
// Hashes nothing checks (a download without a sha256, for the content index)
// run on a second such thread at the lowest priority: see IDLE_HASHING.
import { openSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import type { Segment } from './segmentPlanner'

/** Runs in the worker (eval'd CommonJS: no separate bundle entry needed). A
 *  file's failure ends that file's hash only. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { readSync, closeSync, readlinkSync } = require('node:fs')
const { createHash } = require('node:crypto')
if (workerData.idle) {
  // Linux schedules each thread as a task of its own: nice 19 on this one
  // alone leaves the download's threads their whole share of the CPU.
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
  require('node:os').setPriority(tid, 19)
}
const buf = Buffer.allocUnsafe(4 << 20)
const files = new Map()
const drop = (id) => {
  const f = files.get(id)
  files.delete(id)
  if (f) try { closeSync(f.fd) } catch {}
}
parentPort.on('message', (m) => {
  try {
    if (m.fd !== undefined) {
      const hashed = new BigInt64Array(m.hashed)
      files.set(m.id, { fd: m.fd, hash: createHash('sha256'), pos: 0, hashed })
      return
    }
    const f = files.get(m.id)
    if (!f) return
    if (m.stop) return drop(m.id)
    while (f.pos < m.end) {
      const n = readSync(f.fd, buf, 0, Math.min(buf.length, m.end - f.pos), f.pos)
      if (n <= 0) throw new Error('the .part ended at ' + f.pos + ', before ' + m.end)
      f.hash.update(buf.subarray(0, n))
      f.pos += n
      Atomics.store(f.hashed, 0, BigInt(f.pos))
    }
    if (m.final) {
      drop(m.id)
      parentPort.postMessage({ id: m.id, digest: f.hash.digest('hex') })
    }
  } catch (err) {
    drop(m.id)
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err) })
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

type Settle = { digest: (hex: string) => void; fail: (err: Error) => void }

type Kind = 'checked' | 'idle'

/** One of the process's hashing threads: started by the first file, ended with the last. */
class HashThread {
  readonly worker: Worker
  private readonly files = new Map<number, Settle>()
  private nextId = 0
  private ended = false

  constructor(private readonly kind: Kind) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { idle: kind === 'idle' } })
    this.worker.unref()
    this.worker.on('message', (m: { id: number; digest?: string; error?: string }) => {
      const f = this.files.get(m.id)
      if (!f) return
      this.release(m.id)
      if (m.digest !== undefined) f.digest(m.digest)
      else f.fail(new Error(m.error ?? 'the hashing thread failed'))
    })
    const fail = (err: Error): void => {
      this.ended = true
      if (threads[this.kind] === this) threads[this.kind] = undefined
      for (const f of this.files.values()) f.fail(err)
      this.files.clear()
    }
    this.worker.once('error', fail)
    this.worker.once('exit', (code) => fail(new Error(`the hashing thread exited (${code})`)))
  }

  /** The thread reads `fd` and closes it when done with the file. */
  open(fd: number, hashed: SharedArrayBuffer, settle: Settle): number {
    const id = this.nextId++
    this.files.set(id, settle)
    this.worker.postMessage({ id, fd, hashed })
    return id
  }

  send(id: number, m: { end?: number; final?: boolean; stop?: boolean }): void {
    if (this.files.has(id)) this.worker.postMessage({ id, ...m })
  }

  /** The file is done with (digest, failure or stop): the last one ends the thread. */
  release(id: number): void {
    if (!this.files.delete(id) || this.files.size > 0 || this.ended) return
    this.ended = true
    if (threads[this.kind] === this) threads[this.kind] = undefined
    void this.worker.terminate()
  }
}

const threads: Partial<Record<Kind, HashThread>> = {}

/**
 * Whether a download without a sha256 to check can be hashed as it streams,
 * for free: only where one thread's priority can be lowered on its own
 * (Linux). SHA-256 costs about as much CPU as the TLS of an HTTPS download;
 * at normal priority that CPU is taken from the download on a fast link.
 */
export const IDLE_HASHING = process.platform === 'linux'

/** Frontier messages smaller than this wait for more (each one costs a message). */
const ADVANCE_STEP = 4 << 20

export class FrontierHash {
  private readonly thread: HashThread | undefined
  private readonly id: number
  private sent = 0
  private readonly digested: Promise<string>
  /** Bytes the worker has hashed, written by it (shared memory: no message per read). */
  private readonly hashed = new BigInt64Array(new SharedArrayBuffer(8))
  /** The hash failed or was stopped: nothing is worth waiting for. */
  dead = false

  /** `idle`: on the lowest-priority thread (IDLE_HASHING), which hashes only
   *  with CPU the downloads leave unused and may lag behind. */
  constructor(path: string, opts: { idle?: boolean } = {}) {
    let settle!: Settle
    this.digested = new Promise<string>((digest, fail) => (settle = { digest, fail }))
    this.digested.catch(() => void (this.dead = true)) // observed in digest()
    // Opened here, now: the thread may get to it after a short download is
    // already installed under its final name (the descriptor follows the rename).
    const fd = openFile(path)
    if (typeof fd !== 'number') {
      this.id = -1 // no thread has anything of this file
      settle.fail(fd)
      return
    }
    const kind: Kind = opts.idle ? 'idle' : 'checked'
    this.thread = threads[kind] ??= new HashThread(kind)
    this.id = this.thread.open(fd, this.hashed.buffer as SharedArrayBuffer, settle)
  }

  /** How far the worker has hashed. */
  done(): number {
    return Number(Atomics.load(this.hashed, 0))
  }

  /** Bytes [0, end) are written: hash them in the background. */
  advance(end: number): void {
    if (end - this.sent < ADVANCE_STEP) return
    this.sent = end
    this.thread?.send(this.id, { end })
  }

  /** All of [0, size) is written: the hex digest, once the worker has caught up. */
  digest(size: number): Promise<string> {
    this.thread?.send(this.id, { end: size, final: true })
    return this.digested
  }

  /** Paused, failed or restarted: the hash is of no use. */
  stop(): void {
    this.dead = true
    this.thread?.send(this.id, { stop: true })
    this.thread?.release(this.id)
  }
}

function openFile(path: string): number | Error {
  try {
    return openSync(path, 'r')
  } catch (err) {
    return err as Error
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
