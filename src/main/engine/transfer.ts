// Runs the connections of one download over the `.part`: hands each a
// segment, splits the biggest remaining one when a connection runs dry, and
// checkpoints the segment map into the sidecar (see Checkpointer: never
// claiming bytes not written, tagged with the boot when not fdatasynced).
import { createHash } from 'node:crypto'
import type { InitialBody } from './bodyReader'
import { frontierOf, HashLeadGate, startFrontierHash } from './frontierHash'
import { fetchSegment, RestartNeeded, type FetchContext, type WorkerState } from './segmentFetcher'
import type { PartFile } from './partFile'
import {
  doneBytes,
  foldFinished,
  remaining,
  splitLargest,
  takeFront,
  type Segment
} from './segmentPlanner'
import { currentBootId, writeSidecar, type Sidecar } from './sidecar'
import type { SignedLink } from './signedLink'

/** How often the checkpointer looks at the progress. */
const CHECKPOINT_TICK_MS = 25
/** Bytes one request asks for when several connections share a file: about a
 *  quarter of each connection's share, between 1 and 32 MiB (a new request per
 *  span costs a round trip; a shorter span lets the tail be shared sooner). */
function requestSpan(size: number | null, connections: number): number {
  if (connections <= 1 || size === null) return Infinity
  const MiB = 1024 * 1024
  return Math.min(32 * MiB, Math.max(MiB, Math.ceil(size / connections / 4)))
}

/** What a split must leave to the connection on `seg`: what it has read, and
 *  what its current request will still bring. */
function reservedBytes(seg: Segment, st: WorkerState | undefined): number {
  if (!st) return 0
  return Math.max(st.received, st.requestEnd - seg.start) - seg.done
}
/** The longest gap between two checkpoints while bytes arrive. */
const CHECKPOINT_MAX_GAP_MS = 1000
/** Unsynced checkpoints are a small write + rename, so one is also taken as
 *  soon as this share of the file is on disk unrecorded: a kill -9 then costs
 *  at most ~0.5 % of the file (or a second), whatever the speed. */
const CHECKPOINT_MAX_UNSAVED = 0.005
export const MAX_CONNECTIONS = 16
/** After one connection's final failure (an expired link, a refusal), how long
 *  the others may go on reading what their requests already asked for: the
 *  server has sent it, and cutting them would throw it away. */
const WIND_DOWN_MS = 3000

export interface TransferSetup {
  url: string
  finalPath: string
  file: PartFile
  size: number | null
  segments: Segment[]
  rangesOk: boolean
  validator: string | null
  /** Connections to run (1 unless the file is big enough and ranges work). */
  connections: number
  /** The sidecar minus the parts that change; undefined when there is nothing to resume by. */
  sidecar?: Omit<Sidecar, 'segments' | 'updated'>
  /** Hash in file order while writing (one connection from byte 0). */
  hashWhileWriting: boolean
  /** Hash the file: with ranges and a known size along the frontier (frontierHash.ts). */
  hashAlong?: boolean
  /** Hash it the same way on an idle-priority thread that may lag (nothing to check:
   *  the hash is for the content index; the download never waits for it). */
  hashIdle?: boolean
  initialBody?: InitialBody
  limiter?: FetchContext['limiter']
  /** The probe's final `http:`/`https:` URL, for the raw body path (undefined: undici only). */
  fastUrl?: URL
  /** The server frames this file's body without a length: undici only, on every attempt. */
  rawOff?: boolean
  http: FetchContext['http']
  /** The job URL is a hub's resolve URL: ranges go to its signed link. */
  link?: SignedLink
  stallTimeoutMs: number
  maxAttempts: number
  wait: FetchContext['wait']
  minSplit: number
}

export interface TransferCounters {
  bytesFetched: number
  attempts: number
  /** Connections currently busy. */
  active: number
}

export type TransferOutcome =
  /** sha256 settles once the hashing has caught up with the last bytes (the verify step). */
  | { kind: 'done'; size: number; sha256: Promise<string | null> }
  | { kind: 'stopped'; reason: unknown }

export async function transfer(
  s: TransferSetup,
  signal: AbortSignal,
  counters: TransferCounters
): Promise<TransferOutcome> {
  const stop = new AbortController()
  const relay = (): void => stop.abort(signal.reason)
  if (signal.aborted) relay()
  signal.addEventListener('abort', relay, { once: true })

  // Where ranges work the bytes of a position never change, so a worker can
  // hash the written prefix from the file; otherwise the single stream is
  // hashed as it is written (and restarted with it).
  const frontier =
    (s.hashAlong || s.hashIdle) && s.rangesOk && s.size !== null
      ? startFrontierHash(s.file.path, { idle: !s.hashAlong })
      : undefined
  const inline = s.hashWhileWriting && !frontier
  let hash = createHash('sha256')
  let initialBody = s.initialBody
  const busy = new Map<Segment, WorkerState>()
  const n = s.rangesOk ? Math.max(1, Math.min(s.connections, MAX_CONNECTIONS)) : 1 // planned in partPlan
  // Only a hash that is checked may hold the download; an idle one is left behind.
  const lead = frontier && s.hashAlong && n === 1 ? new HashLeadGate(frontier) : undefined
  const ctx: FetchContext = {
    url: s.url,
    file: s.file,
    size: s.size,
    rangesOk: s.rangesOk,
    validator: s.validator,
    fast: { url: s.fastUrl, off: s.rawOff },
    link: s.link,
    http: s.http,
    signal: stop.signal,
    stallTimeoutMs: s.stallTimeoutMs,
    maxAttempts: s.maxAttempts,
    wait: s.wait,
    single: () => s.segments.length === 1,
    // With several connections each request asks for a bounded span, so a
    // connection that takes over the tail of another never races bytes that
    // are already on their way (and would be thrown away).
    requestSpan: requestSpan(s.size, n),
    takeInitialBody: () => {
      const b = initialBody
      initialBody = undefined
      return b
    },
    hash: inline
      ? { current: hash, reset: () => void (hash = ctx.hash!.current = createHash('sha256')) }
      : undefined,
    onNetworkBytes: (n) => void (counters.bytesFetched += n),
    limiter: s.limiter,
    hashLead: lead && (() => lead.wait()),
    onRetry: () => void counters.attempts++,
    windingDown: () => failure !== undefined
  }

  const checkpoints = new Checkpointer(s)
  const ticker = setInterval(() => {
    checkpoints.tick()
    if (!frontier) return
    frontier.advance(frontierOf(s.segments))
    lead?.check(doneBytes(s.segments))
  }, CHECKPOINT_TICK_MS)

  const nextSegment = (): Segment | undefined => {
    if (Number.isFinite(ctx.requestSpan)) foldFinished(s.segments, busy)
    const idle = s.segments.find((seg) => remaining(seg) > 0 && !busy.has(seg))
    // Several connections take one request's span at a time from the front.
    if (idle && Number.isFinite(ctx.requestSpan))
      return takeFront(s.segments, idle, ctx.requestSpan, s.minSplit)
    if (idle || !s.rangesOk) return idle
    return splitLargest(
      s.segments,
      new Set(busy.keys()),
      (seg) => reservedBytes(seg, busy.get(seg)),
      s.minSplit
    )
  }

  let failure: { err: unknown } | undefined
  let windDown: NodeJS.Timeout | undefined
  const fail = (err: unknown): void => {
    if (signal.aborted) return stop.abort(signal.reason)
    failure ??= { err }
    // A restart throws the .part away anyway: stop at once. Otherwise the other
    // connections finish the requests under way (no retries, no new ones).
    if (err instanceof RestartNeeded) return stop.abort(err)
    windDown ??= setTimeout(() => stop.abort(failure!.err), WIND_DOWN_MS)
  }
  const worker = async (): Promise<void> => {
    for (
      let seg = nextSegment();
      seg && !stop.signal.aborted && !failure;
      seg = failure ? undefined : nextSegment()
    ) {
      const st: WorkerState = { received: seg.done, requestEnd: seg.start + seg.done }
      busy.set(seg, st)
      counters.active = busy.size
      try {
        await fetchSegment(seg, ctx, st)
      } finally {
        busy.delete(seg)
        counters.active = busy.size
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: n }, () => worker().catch(fail)))
  } catch (err) {
    frontier?.stop()
    throw err
  } finally {
    clearTimeout(windDown)
    clearInterval(ticker)
    lead?.release()
    signal.removeEventListener('abort', relay)
    initialBody?.close() // never taken (the run stopped first): its connection goes too
    // Paused or failed: the sidecar must say exactly what is on disk. Done:
    // the sidecar is about to go, and syncing gigabytes here would only wait on the disk.
    if (signal.aborted || failure) await checkpoints.flush()
    else await checkpoints.running
  }
  if (signal.aborted || failure) frontier?.stop()
  if (signal.aborted) return { kind: 'stopped', reason: signal.reason }
  if (failure) throw failure.err
  const size = s.size ?? s.segments[s.segments.length - 1]!.end
  const sha256 = frontier
    ? frontier.digest(size)
    : Promise.resolve(inline ? hash.digest('hex') : null)
  return { kind: 'done', size, sha256 }
}

/**
 * Saves the segment map, never claiming bytes that are not written: the map is
 * copied before the data is synced or the sidecar written, so it describes
 * only bytes already handed to the kernel. Periodic saves skip fdatasync and
 * record the boot instead (a kill -9 keeps the page cache; only a reboot can
 * lose written bytes, and then the sidecar is not trusted): syncing every
 * second would tie the download to the disk's speed instead of the page
 * cache's. The last save (pause, failure) is synced and trusted after reboots.
 * A save while one is running is skipped rather than queued.
 */
class Checkpointer {
  running: Promise<void> | undefined
  private lastDone = -1
  private lastAt = Date.now()

  constructor(private readonly s: TransferSetup) {}

  /** Saves when a second has passed, or (unsynced saves only) when enough is unrecorded. */
  tick(): void {
    if (this.running || !this.s.sidecar) return
    const unsaved = doneBytes(this.s.segments) - Math.max(0, this.lastDone)
    if (unsaved <= 0) return
    const due = Date.now() - this.lastAt >= CHECKPOINT_MAX_GAP_MS
    const cheap = currentBootId() !== null
    if (due || (cheap && unsaved >= this.s.sidecar.size * CHECKPOINT_MAX_UNSAVED)) void this.save()
  }

  save(durable = false): Promise<void> {
    this.running ??= this.write(durable)
      .catch(() => undefined) // a failed checkpoint costs progress on a crash, not data
      .finally(() => (this.running = undefined))
    return this.running
  }

  /** The last save: waits for one in flight, then saves the final map, synced. */
  async flush(): Promise<void> {
    await this.running
    this.lastDone = -1
    await this.save(true)
  }

  private async write(durable: boolean): Promise<void> {
    const base = this.s.sidecar
    if (!base) return
    const segments = this.s.segments.map((seg) => ({ ...seg }))
    const done = doneBytes(segments)
    if (done === this.lastDone) return
    const boot = durable ? null : currentBootId()
    if (boot === null) await this.s.file.sync()
    this.lastAt = Date.now()
    await writeSidecar(this.s.finalPath, {
      ...base,
      segments,
      updated: Date.now() / 1000,
      boot_id: boot
    })
    this.lastDone = done
  }
}
