// A pod's downloads as this app last saw them. Status snapshots from the
// helper become DownloadRecords (only what changed, and what went, is
// announced); the cache that shows them at once on the next start-up is saved
// at most every 2 s; and entries whose worker went away (pod restart, kill)
// are resumed, once each, when auto-resume is on.
import type { DownloadRecord } from '../../../shared/types'
import { entryToRecord, parseEntry } from '../../status/statusEntry'
import { capRecords } from './podRecordCap'

const CACHE_SAVE_MS = 2000

export interface PodCacheInfo {
  freeBytes: number | null
  comfyui: string | null
  /** When the pod was really last reached (saving the cache is not seeing the pod). */
  lastSeen: number | null
}

export type RemovedRecord = { id: string; rev: number }

export interface PodRecordsHooks {
  /** Records changed or went away. */
  changed(upserts: DownloadRecord[], removed: RemovedRecord[]): void
  save(records: DownloadRecord[], info: PodCacheInfo): void
  /** What the pod looked like, saved with the records. */
  cacheInfo(): PodCacheInfo
  autoResume(): boolean
  /** Whether this PodPull started (or its user resumed) the entry: only those resume by themselves. */
  owned(id: string, path: string): boolean
  resume(id: string): Promise<void>
  resumeFailed(err: unknown): void
  /** Some records were left out (too many, too large), or all fit again. */
  noticeChanged?(notice: string | null): void
}

export class PodRecords {
  private readonly records = new Map<string, DownloadRecord>()
  /** Interrupted jobs (worker gone: pod restart, kill) being resumed right now,
   *  so the next status line does not resume them twice. */
  private readonly resuming = new Set<string>()
  private saveTimer: NodeJS.Timeout | null = null
  /** Why not every entry of the pod is kept (podRecordCap.ts), or null. */
  notice: string | null = null

  constructor(
    private readonly targetId: string,
    cached: DownloadRecord[],
    private readonly hooks: PodRecordsHooks
  ) {
    // The settings file can be edited too: a cache past the cap is cut down as it loads.
    const { kept, notice } = capRecords(cached)
    this.notice = notice
    for (const r of kept) this.records.set(r.id, { ...r, targetId })
  }

  list(): DownloadRecord[] {
    return [...this.records.values()]
  }

  get(id: string): DownloadRecord | undefined {
    return this.records.get(id)
  }

  /** Announces every record (the cached ones, when the target opens). */
  announce(): void {
    if (this.records.size) this.emitDownloads([...this.records.values()], [])
  }

  /** A snapshot from the watch stream: mirrored, then what died is resumed. */
  watched(status: Record<string, unknown>): void {
    this.apply(status)
    const interrupted = this.interrupted(status)
    if (interrupted.length && this.hooks.autoResume()) void this.autoResume(interrupted)
  }

  apply(status: Record<string, unknown>): void {
    const upserts: DownloadRecord[] = []
    const seen = new Set<string>()
    const all: DownloadRecord[] = []
    for (const [path, raw] of Object.entries(status)) {
      const e = parseEntry(path, raw)
      if (e) all.push(entryToRecord(this.targetId, path, e))
    }
    const { kept, notice } = capRecords(all)
    this.setNotice(notice)
    for (const rec of kept) {
      seen.add(rec.id)
      const old = this.records.get(rec.id)
      if (!old || JSON.stringify(old) !== JSON.stringify(rec)) {
        this.records.set(rec.id, rec)
        upserts.push(rec)
      }
    }
    const removed: RemovedRecord[] = []
    for (const [id, old] of this.records) {
      if (seen.has(id)) continue
      this.records.delete(id)
      removed.push({ id, rev: old.rev + 1 })
    }
    if (upserts.length || removed.length) this.emitDownloads(upserts, removed)
  }

  private setNotice(notice: string | null): void {
    if (notice === this.notice) return
    this.notice = notice
    this.hooks.noticeChanged?.(notice)
  }

  /** Saves the cache now (the target is closing). */
  flush(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer)
    this.saveTimer = null
    this.hooks.save(this.list(), this.hooks.cacheInfo())
  }

  private emitDownloads(upserts: DownloadRecord[], removed: RemovedRecord[]): void {
    this.hooks.changed(upserts, removed)
    this.scheduleCacheSave()
  }

  private scheduleCacheSave(): void {
    if (this.saveTimer) return
    this.saveTimer = setTimeout(() => this.flush(), CACHE_SAVE_MS)
    this.saveTimer.unref?.()
  }

  /** Entries whose worker went away (the helper marks them `interrupted`):
   *  not paused by anyone, so they are resumed — with the tokens, which only
   *  this app has. A user's pause (here or from the CLI) is never interrupted.
   *  Only entries this PodPull started: anything on the pod can write an
   *  interrupted entry into its status file, and must not get a token for it. */
  private interrupted(status: Record<string, unknown>): string[] {
    const ids: string[] = []
    for (const [path, raw] of Object.entries(status)) {
      const e = parseEntry(path, raw)
      if (!e || !e.interrupted || !e.resumable || this.resuming.has(e.id)) continue
      if (!this.hooks.owned(e.id, path)) continue
      if (e.status === 'paused' || e.status === 'error') ids.push(e.id)
    }
    return ids
  }

  private async autoResume(ids: string[]): Promise<void> {
    for (const id of ids) {
      this.resuming.add(id)
      try {
        await this.hooks.resume(id)
      } catch (err) {
        this.hooks.resumeFailed(err)
      } finally {
        this.resuming.delete(id)
      }
    }
  }
}
