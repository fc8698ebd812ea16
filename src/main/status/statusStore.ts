// One workspace's status file as this process sees it: the entries it runs
// (written read-modify-write under the lock, batched to about one write a
// second) merged with everyone else's (read on every change another process
// makes). Emits `change` with what changed so targets can turn it into events.
import { currentBootId } from '../engine/sidecar'
import { EventEmitter } from 'node:events'
import { hostname } from 'node:os'
import { ageEntries, isPidAlive, pidStartTime, staleReason, type AgingRules } from './entryAging'
import { ACTIVE_STATES } from '../../shared/types'
import { parseEntry, type StatusEntry, type StatusOwner } from './statusEntry'
import {
  moveAsideCorrupt,
  readStatus,
  setAsideMessage,
  type ParsedStatus,
  statusFilePath,
  withStatusLock,
  writeStatusAtomic,
  type RawStatus
} from './statusFile'
import { StatusWatch } from './statusWatch'

export interface StatusStoreOptions {
  workspace: string
  retentionHours: () => number
  staleMinutes: () => number
  /** Epoch milliseconds; injectable so tests can move time. */
  clock?: () => number
  host?: string
  pid?: number
  isPidAlive?: (pid: number) => boolean
  /** A pid's start time (default: from /proc); injectable so tests can reuse a pid. */
  pidStart?: (pid: number) => number | null
  /** Minimum gap between two batched writes (default 1000 ms). */
  flushIntervalMs?: number
  /** Fallback poll for other processes' changes (default 2000 ms). */
  pollMs?: number
  /** How refresh() reads the file (tests hold a read to land it after a write). */
  readForRefresh?: (file: string) => Promise<ParsedStatus>
}

export interface StatusChange {
  upserts: [path: string, entry: StatusEntry][]
  /** Paths gone from the file, with the entry last seen (for its rev). */
  removed: [path: string, entry: StatusEntry][]
}

export interface PutOptions {
  /** A state change: write now rather than within the next second. */
  urgent?: boolean
  /** This process is moving the job: never stale, stays ours after the write. */
  running?: boolean
}

export type ClaimResult = { ok: true; entry: StatusEntry } | { ok: false; holder: StatusEntry }

interface PendingClaim {
  path: string
  entry: StatusEntry
  o: PutOptions
  resolve: (r: ClaimResult) => void
  reject: (err: unknown) => void
}

interface StoreEvents {
  change: [StatusChange]
  /** Entries found stale (their owner died, or they stopped moving) and marked stopped. */
  stale: [paths: string[]]
  /** Something the user should read: a status file set aside. */
  notice: [string]
  error: [Error]
}

export class StatusStore extends EventEmitter<StoreEvents> {
  readonly file: string
  readonly workspace: string
  private readonly clock: () => number
  private readonly host: string
  private readonly pid: number
  private readonly pidAlive: (pid: number) => boolean
  private readonly interval: number
  /** Entries this process holds: running jobs and changes not yet written. */
  private readonly own = new Map<string, StatusEntry>()
  private readonly dirty = new Set<string>()
  private readonly deletions = new Set<string>()
  private readonly running = new Set<string>()
  /** Every path this process has written: restored if the file turns out corrupt. */
  private readonly written = new Set<string>()
  private disk: RawStatus = {}
  /** Counts our writes: a read that one of them overtook may show the file before it. */
  private writes = 0
  private view = new Map<string, StatusEntry>()
  private needsWrite = false
  private timer: NodeJS.Timeout | null = null
  private writing: Promise<void> | null = null
  /** Claims waiting for the next claim write, and whether that writer runs. */
  private readonly claims: PendingClaim[] = []
  private claiming = false
  private lastWriteAt = 0
  private readonly watch: StatusWatch
  /** Ages what we show again: an owner can die without the file changing. */
  private staleTimer: NodeJS.Timeout | null = null
  private closed = false

  constructor(private readonly opts: StatusStoreOptions) {
    super()
    this.file = statusFilePath(opts.workspace)
    this.workspace = opts.workspace
    this.clock = opts.clock ?? Date.now
    this.host = opts.host ?? hostname()
    this.pid = opts.pid ?? process.pid
    this.pidAlive = opts.isPidAlive ?? isPidAlive
    this.interval = opts.flushIntervalMs ?? 1000
    this.watch = new StatusWatch(this.file, () => void this.refreshQuietly(), {
      pollMs: opts.pollMs
    })
  }

  /** This process as an entry's owner. */
  owner(): StatusOwner {
    const boot = currentBootId()
    const start = (this.opts.pidStart ?? pidStartTime)(this.pid)
    return {
      host: this.host,
      pid: this.pid,
      engine: 'ts',
      ...(boot ? { boot } : {}),
      ...(start !== null ? { start } : {})
    }
  }

  /** Epoch seconds by the store's clock. */
  now(): number {
    return this.clock() / 1000
  }

  async open(): Promise<void> {
    this.closed = false
    await this.refresh()
    await this.watch.start()
    this.staleTimer = setInterval(() => this.rebuildView(), this.opts.pollMs ?? 2000)
    this.staleTimer.unref()
  }

  /** Writes what is pending and stops watching. */
  async close(): Promise<void> {
    await this.flush()
    this.closed = true
    this.watch.stop()
    if (this.staleTimer) clearInterval(this.staleTimer)
    this.staleTimer = null
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  /** Every well-formed entry: other processes' (aged) and ours. */
  entries(): ReadonlyMap<string, StatusEntry> {
    return this.view
  }

  get(path: string): StatusEntry | undefined {
    return this.view.get(path)
  }

  findById(id: string): [string, StatusEntry] | undefined {
    for (const pair of this.view) if (pair[1].id === id) return pair
    return undefined
  }

  /** Sets this process's entry for `path`; the store stamps `timestamp` and the next `rev`. */
  put(path: string, entry: StatusEntry, o: PutOptions = {}): StatusEntry {
    const next = this.hold(path, entry, o, 0)
    this.emit('change', { upserts: [[path, next]], removed: [] })
    this.schedule(o.urgent ?? false)
    return next
  }

  /** Takes `path` for this process at once, under the lock, unless another live
   *  process is running or queueing it (then `holder` is its entry). Use it to
   *  start or take over a job, so two processes never run one file. Claims made
   *  until the lock is held and the file read are decided together in one write
   *  (a set's files start at once, not one lock round after another). */
  claim(path: string, entry: StatusEntry, o: PutOptions = {}): Promise<ClaimResult> {
    return new Promise((resolve, reject) => {
      this.claims.push({ path, entry, o, resolve, reject })
      if (this.claiming) return
      this.claiming = true
      void this.writeClaims()
    })
  }

  /** Writes the waiting claims, a batch per locked read-modify-write, until none
   *  wait (it stops in the same turn it sees none, so a later claim starts anew). */
  private async writeClaims(): Promise<void> {
    while (this.claims.length) {
      const batch: PendingClaim[] = []
      try {
        await this.flush()
        while (this.writing) await this.writing
        const results = await this.claimBatch(batch)
        batch.forEach((c, i) => c.resolve(results[i]!))
      } catch (err) {
        for (const c of [...batch, ...this.claims.splice(0)]) c.reject(err)
      }
    }
    this.claiming = false
  }

  /** One locked write deciding every claim made by the time the file is read
   *  (moved into `batch`); the results in the same order. */
  private async claimBatch(batch: PendingClaim[]): Promise<ClaimResult[]> {
    const results: ClaimResult[] = []
    this.writing = withStatusLock(this.file, () =>
      this.readModifyWrite((raw) => {
        batch.push(...this.claims.splice(0))
        for (const { path, entry, o } of batch) {
          const cur = parseEntry(path, raw[path])
          if (cur && this.heldByOther(path, cur)) {
            results.push({ ok: false, holder: cur })
            continue
          }
          const next = this.hold(path, entry, o, cur?.rev ?? 0)
          raw[path] = next
          results.push({ ok: true, entry: next })
        }
        return results.some((r) => r.ok)
      })
    ).finally(() => {
      this.writing = null
      this.lastWriteAt = Date.now()
    })
    await this.writing
    for (const { path } of batch) {
      this.written.add(path)
      this.dirty.delete(path)
    }
    await this.watch.acknowledge()
    this.rebuildView()
    // hold() put them in the view already, so the diff above doesn't report them.
    const upserts = batch.flatMap(({ path }, i) => {
      const r = results[i]!
      return r.ok ? [[path, r.entry] as [string, StatusEntry]] : []
    })
    if (upserts.length) this.emit('change', { upserts, removed: [] })
    return results
  }

  /** Drops the entry for `path` from the file (a finished, failed or cancelled job). */
  delete(path: string): void {
    const prev = this.view.get(path)
    this.own.delete(path)
    this.dirty.delete(path)
    this.running.delete(path)
    this.deletions.add(path)
    this.view.delete(path)
    if (prev) this.emit('change', { upserts: [], removed: [[path, prev]] })
    this.schedule(true)
  }

  /** The file exactly as stored (after settling pending writes). */
  async raw(): Promise<RawStatus> {
    await this.flush()
    const parsed = await readStatus(this.file)
    return parsed.ok ? parsed.raw : {}
  }

  /** Re-reads the file (another process may have changed it). */
  async refresh(): Promise<void> {
    const read = this.opts.readForRefresh ?? readStatus
    let parsed: ParsedStatus
    for (;;) {
      const before = this.writes
      parsed = await read(this.file)
      // A write of ours landed while this read was under way: what it read may
      // predate that write (our run's own last state, still shown active), so read again.
      if (this.writes === before) break
    }
    if (!parsed.ok) {
      // Moving it aside needs the lock; the write does it and puts our entries back.
      this.needsWrite = true
      this.schedule(true)
      return
    }
    this.disk = parsed.raw
    this.rebuildView()
  }

  /** Writes everything pending now (waits for a write in progress first). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    while (this.writing) await this.writing
    if (!this.needsWrite && this.dirty.size === 0 && this.deletions.size === 0) return
    this.writing = this.writeOnce().finally(() => {
      this.writing = null
      this.lastWriteAt = Date.now()
    })
    await this.writing
  }

  /** Makes `entry` this process's, stamped with the time and the next revision. */
  private hold(path: string, entry: StatusEntry, o: PutOptions, diskRev: number): StatusEntry {
    const prevRev = Math.max(this.view.get(path)?.rev ?? 0, entry.rev, diskRev)
    const next: StatusEntry = { ...entry, timestamp: this.now(), rev: prevRev + 1 }
    this.own.set(path, next)
    this.dirty.add(path)
    this.deletions.delete(path)
    if (o.running) this.running.add(path)
    else this.running.delete(path)
    this.view.set(path, next)
    return next
  }

  /** Whether this process wrote the entry as its owner. */
  ownedHere(e: StatusEntry): boolean {
    return e.owner !== null && e.owner.host === this.host && e.owner.pid === this.pid
  }

  private heldByOther(path: string, e: StatusEntry): boolean {
    if (!ACTIVE_STATES.includes(e.status) || !e.owner) return false
    if (this.ownedHere(e)) return false
    return staleReason(e, path, this.rules()) === undefined
  }

  private rules(): AgingRules {
    return {
      now: this.now(),
      retentionHours: this.opts.retentionHours(),
      staleMinutes: this.opts.staleMinutes(),
      host: this.host,
      isPidAlive: this.pidAlive,
      pidStart: this.opts.pidStart,
      running: this.running
    }
  }

  private schedule(urgent: boolean): void {
    if (this.closed) return
    const due = urgent ? 0 : Math.max(0, this.lastWriteAt + this.interval - Date.now())
    if (this.timer) {
      if (due > 0) return // one is already coming
      clearTimeout(this.timer)
    }
    this.timer = setTimeout(() => {
      this.timer = null
      // Changes made while a write was under way wait their turn a second after
      // it, rather than following it at once (two writes where one was due).
      if (this.writing && !urgent) {
        const later = (): void => this.schedule(false)
        return void this.writing.then(later, later)
      }
      this.flush().catch((err: unknown) => this.emit('error', err as Error))
    }, due)
  }

  private async refreshQuietly(): Promise<void> {
    try {
      await this.refresh()
    } catch (err) {
      this.emit('error', err as Error)
    }
  }

  private async writeOnce(): Promise<void> {
    const dirty = [...this.dirty]
    const deletions = [...this.deletions]
    const wrote = new Map(dirty.map((p) => [p, this.own.get(p)]))
    this.dirty.clear()
    this.deletions.clear()
    this.needsWrite = false
    try {
      await withStatusLock(this.file, () =>
        this.readModifyWrite((raw) => {
          for (const p of deletions) delete raw[p]
          for (const [p, e] of wrote) if (e) raw[p] = e
          return true
        })
      )
    } catch (err) {
      for (const p of dirty) if (this.own.has(p)) this.dirty.add(p)
      for (const p of deletions) this.deletions.add(p)
      throw err
    }
    await this.watch.acknowledge()
    for (const [p, e] of wrote) {
      this.written.add(p)
      // Written and nobody here runs it: the file is its home now, and another
      // process may take it over without us writing an old copy back.
      if (e && this.own.get(p) === e && !this.running.has(p)) this.own.delete(p)
    }
    this.rebuildView()
  }

  /** Under the lock: read the file, let `mutate` change it (false: leave it be), age, write. */
  private async readModifyWrite(mutate: (raw: RawStatus) => boolean): Promise<void> {
    const parsed = await readStatus(this.file)
    let raw: RawStatus
    if (parsed.ok) raw = parsed.raw
    else {
      const aside = await moveAsideCorrupt(this.file, this.now())
      if (parsed.why) this.emit('notice', setAsideMessage(this.file, parsed.why, aside))
      raw = {}
      for (const p of this.written) if (this.disk[p] !== undefined) raw[p] = this.disk[p]
    }
    const mutated = mutate(raw)
    // Our running entries always go back: a corrupt file or another writer may have lost them.
    for (const p of this.running) {
      const e = this.own.get(p)
      if (e) raw[p] = e
    }
    const aged = ageEntries(raw, this.rules())
    if (mutated || aged.changed || !parsed.ok) await writeStatusAtomic(this.file, raw)
    this.disk = raw
    this.writes++
    if (aged.stale.length) this.emit('stale', aged.stale)
  }

  private rebuildView(): void {
    const view = { ...this.disk }
    const s = ageEntries(view, this.rules())
    if (s.changed) {
      this.needsWrite = true
      this.schedule(true)
    }
    if (s.stale.length) this.emit('stale', s.stale)
    const next = new Map<string, StatusEntry>()
    for (const [p, v] of Object.entries(view)) {
      const e = parseEntry(p, v)
      if (e) next.set(p, e)
    }
    for (const [p, e] of this.own) next.set(p, e)
    for (const p of this.deletions) next.delete(p)
    this.emitDiff(next)
  }

  private emitDiff(next: Map<string, StatusEntry>): void {
    const change: StatusChange = { upserts: [], removed: [] }
    for (const [p, e] of next) {
      const prev = this.view.get(p)
      if (!prev || prev.rev !== e.rev || prev.timestamp !== e.timestamp || prev.status !== e.status)
        change.upserts.push([p, e])
    }
    for (const [p, e] of this.view) if (!next.has(p)) change.removed.push([p, e])
    this.view = next
    if (change.upserts.length || change.removed.length) this.emit('change', change)
  }
}
