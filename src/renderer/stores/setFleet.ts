// A set's state on one target, entry by entry, derived from what the target
// says: its download records (any process's: the app, `podpull serve`, a
// `podpull sets apply` in a terminal, a run from before a restart) and the
// plan (what is installed there). Nothing here depends on which window
// started the run, so the Sets view shows any run of the set.
import type { ModelSet } from '../../shared/modelSet'
import {
  ACTIVE_STATES,
  type DownloadRecord,
  type SetApplyStart,
  type SetPlanItem
} from '../../shared/types'

export type EntryState =
  'present' | 'completed' | 'running' | 'paused' | 'failed' | 'conflict' | 'missing' | 'unknown'

export interface EntryView {
  index: number
  label: string
  state: EntryState
  /** Why it failed, conflicts or waits. */
  why: string | null
  downloaded: number
  size: number | null
  /** A file of this computer sent to the target (not a download). */
  upload: boolean
}

export interface PartProgress {
  downloaded: number
  size: number
  /** 0..100: by bytes where sizes are known, else by entries. */
  percent: number
  /** Nothing of the set is moving on the target any more. */
  done: boolean
  counts: Record<EntryState, number>
}

const keyOf = (folder: string, name: string): string => `${folder}/${name}`

/** The target's newest record per "folder/name". */
function recordsByName(records: Iterable<DownloadRecord>): Map<string, DownloadRecord> {
  const out = new Map<string, DownloadRecord>()
  for (const r of records) {
    const k = keyOf(r.folder, r.filename)
    const had = out.get(k)
    if (!had || had.timestamp <= r.timestamp) out.set(k, r)
  }
  return out
}

function fromRecord(r: DownloadRecord, planned: SetPlanItem | undefined): EntryState {
  if (r.state === 'completed') return 'completed'
  if (ACTIVE_STATES.includes(r.state)) return 'running'
  // An old failure does not outweigh the file being there now.
  if (planned?.action === 'present') return 'present'
  return r.state === 'paused' ? 'paused' : 'failed'
}

function fromPlan(p: SetPlanItem | undefined): EntryState {
  if (!p) return 'unknown'
  if (p.action === 'present') return 'present'
  if (p.action === 'conflict') return 'conflict'
  return 'missing'
}

function whyOf(
  state: EntryState,
  rec: DownloadRecord | undefined,
  failedWhy: string | undefined,
  planned: SetPlanItem | undefined
): string | null {
  if (state === 'failed') return rec?.error ?? failedWhy ?? `ended ${rec?.state ?? 'removed'}`
  if (state === 'conflict') return planned?.reason ?? null
  if (state === 'paused') return rec?.error ?? 'paused'
  return null
}

/** Every entry of `set` on one target. `start`: what this window's apply
 *  started there (a started download not seen yet is already running). */
export function entryViews(
  set: ModelSet,
  plan: SetPlanItem[] | null,
  records: Iterable<DownloadRecord>,
  start: SetApplyStart | null
): EntryView[] {
  const all = [...records]
  const byName = recordsByName(all)
  const byId = new Map(all.map((r) => [r.id, r]))
  return set.models.map((e, index) => {
    const planned = plan?.find((p) => p.index === index)
    const started = start?.started.find((s) => s.index === index)
    const failedNote = start?.failed.find((f) => f.index === index)
    const rec = (started && byId.get(started.id)) ?? byName.get(keyOf(e.folder, e.name))
    let state: EntryState = rec ? fromRecord(rec, planned) : fromPlan(planned)
    if (!rec && started) state = 'running'
    if (!rec && failedNote) state = 'failed'
    const why = whyOf(state, rec, failedNote?.why, planned)
    const size = rec?.fileSize ?? e.size ?? null
    const downloaded =
      state === 'present' || state === 'completed' ? (size ?? 0) : (rec?.downloaded ?? 0)
    return {
      index,
      label: keyOf(e.folder, e.name),
      state,
      why,
      downloaded,
      size,
      upload: rec?.kind === 'upload' || e.source.kind === 'local'
    }
  })
}

export function progressOf(views: EntryView[]): PartProgress {
  const counts = {
    present: 0,
    completed: 0,
    running: 0,
    paused: 0,
    failed: 0,
    conflict: 0,
    missing: 0,
    unknown: 0
  }
  let downloaded = 0
  let size = 0
  for (const v of views) {
    counts[v.state]++
    if (v.size != null) {
      size += v.size
      downloaded += Math.min(v.downloaded, v.size)
    }
  }
  const whole = counts.present + counts.completed
  const percent = size
    ? Math.floor((downloaded * 100) / size)
    : views.length
      ? Math.floor((whole * 100) / views.length)
      : 100
  return { downloaded, size, percent, done: counts.running === 0, counts }
}
