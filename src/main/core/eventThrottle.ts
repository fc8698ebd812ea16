// Coalesces download changes so the UI gets at most `perSecond` events per
// target however fast the engines report. Only the newest revision of a record
// is kept; a removal supersedes older upserts of the same id. A download that
// ends (completed, error, cancelled, paused) goes out on the next turn of the
// event loop instead of waiting out the interval: `podpull download` exits on
// it, and a user waits for that, not for a progress tick (up to 250 ms of
// every command's exit). Ends reported in the same turn
// still share one event.
import type { DownloadRecord, DownloadsChangedEvent } from '../../shared/types'

const ENDED = new Set<DownloadRecord['state']>(['completed', 'error', 'cancelled', 'paused'])

interface Pending {
  upserts: Map<string, DownloadRecord>
  removed: Map<string, number>
}

export class DownloadEventThrottle {
  private pending = new Map<string, Pending>()
  private timer: NodeJS.Timeout | null = null
  private soon = false
  private lastFlush = 0

  constructor(
    private readonly emit: (ev: DownloadsChangedEvent) => void,
    private readonly perSecond = 4,
    private readonly now: () => number = Date.now
  ) {}

  push(ev: DownloadsChangedEvent): void {
    let p = this.pending.get(ev.targetId)
    if (!p) {
      p = { upserts: new Map(), removed: new Map() }
      this.pending.set(ev.targetId, p)
    }
    for (const r of ev.upserts) {
      const prev = p.upserts.get(r.id)
      if (!prev || prev.rev <= r.rev) p.upserts.set(r.id, r)
      const gone = p.removed.get(r.id)
      if (gone !== undefined && gone < r.rev) p.removed.delete(r.id)
      if (ENDED.has(r.state)) this.flushSoon()
    }
    for (const rm of ev.removed) {
      const up = p.upserts.get(rm.id)
      if (up && up.rev <= rm.rev) p.upserts.delete(rm.id)
      p.removed.set(rm.id, Math.max(rm.rev, p.removed.get(rm.id) ?? 0))
    }
    this.schedule()
  }

  private flushSoon(): void {
    if (this.soon) return
    if (this.timer) clearTimeout(this.timer)
    this.soon = true
    this.timer = setTimeout(() => this.flush(), 0)
  }

  private schedule(): void {
    if (this.timer) return
    const interval = 1000 / this.perSecond
    const wait = Math.max(0, this.lastFlush + interval - this.now())
    this.timer = setTimeout(() => this.flush(), wait)
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.soon = false
    this.lastFlush = this.now()
    const batches = this.pending
    this.pending = new Map()
    for (const [targetId, p] of batches) {
      if (p.upserts.size === 0 && p.removed.size === 0) continue
      this.emit({
        targetId,
        upserts: [...p.upserts.values()],
        removed: [...p.removed].map(([id, rev]) => ({ id, rev }))
      })
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.soon = false
    this.pending.clear()
  }
}
