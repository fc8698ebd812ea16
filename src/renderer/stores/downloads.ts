// Every download across all targets, keyed by id. Main owns the truth: we are
// seeded from a snapshot and patched by downloadsChanged events. Each record
// carries a monotonic rev, so a late or out-of-order event never rolls a row back.
import { defineStore } from 'pinia'
import { computed, shallowReactive } from 'vue'
import { useTargetsStore } from './targets'
import {
  ACTIVE_STATES,
  JOB_STATES,
  type DownloadRecord,
  type DownloadsChangedEvent,
  type JobState
} from '../../shared/types'

export interface DownloadTotals {
  /** Bytes done / bytes expected over active downloads of known size, 0..100. */
  progress: number
  downloaded: number
  size: number
  /** Sum of the speeds of active downloads, bytes/s. */
  speed: number
  active: number
}

export const isActive = (r: Pick<DownloadRecord, 'state'>): boolean =>
  ACTIVE_STATES.includes(r.state)

/** Still on the move (or waiting for the user) rather than finished. */
export const isUnfinished = (r: Pick<DownloadRecord, 'state'>): boolean =>
  isActive(r) || r.state === 'paused'

// Unfinished first, newest first within each group; id keeps the order stable.
function byDisplayOrder(a: DownloadRecord, b: DownloadRecord): number {
  const g = Number(isUnfinished(b)) - Number(isUnfinished(a))
  if (g) return g
  return b.startTime - a.startTime || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

export const useDownloadsStore = defineStore('downloads', () => {
  const targets = useTargetsStore()
  // shallowReactive: replacing a record is the only change we make, so rows
  // re-render when their own record object changes and nothing deep is tracked.
  const records = shallowReactive(new Map<string, DownloadRecord>())
  // Removals are remembered by rev so an older upsert cannot resurrect a row.
  const removedAt = new Map<string, number>()

  function seed(list: DownloadRecord[]): void {
    records.clear()
    removedAt.clear()
    for (const r of list) records.set(r.id, r)
  }

  function upsert(r: DownloadRecord): void {
    const have = records.get(r.id)
    if (have && have.rev >= r.rev) return
    const gone = removedAt.get(r.id)
    if (gone !== undefined && gone >= r.rev) return
    removedAt.delete(r.id)
    records.set(r.id, r)
  }

  function remove(id: string, rev: number): void {
    const have = records.get(id)
    if (have && have.rev > rev) return
    records.delete(id)
    removedAt.set(id, Math.max(rev, removedAt.get(id) ?? -Infinity))
  }

  function apply(ev: DownloadsChangedEvent): void {
    for (const r of ev.upserts) upsert(r)
    for (const x of ev.removed) remove(x.id, x.rev)
  }

  const list = computed(() => [...records.values()].sort(byDisplayOrder))

  const counts = computed(() => {
    const c = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>
    for (const r of records.values()) c[r.state]++
    return c
  })

  const totals = computed<DownloadTotals>(() => {
    let downloaded = 0
    let size = 0
    let speed = 0
    let active = 0
    for (const r of records.values()) {
      if (!isActive(r)) continue
      active++
      // An unreachable pod's last known speed is history, not a speed now.
      const offline = targets.byId.get(r.targetId)?.connection === 'offline'
      if (r.speed > 0 && !offline) speed += r.speed
      if (r.fileSize) {
        size += r.fileSize
        downloaded += Math.min(r.downloaded, r.fileSize)
      }
    }
    const progress = size > 0 ? (downloaded / size) * 100 : 0
    return { progress, downloaded, size, speed, active }
  })

  const finishedCount = computed(() => counts.value.completed)

  return { records, seed, apply, list, counts, totals, finishedCount }
})
