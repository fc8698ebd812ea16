// How status entries age: the retention and staleness rules of docs/formats.md
// (old finished entries dropped, entries whose owner died or that stopped
// moving marked paused/error), applied to a raw status object on every write
// (and to what is shown after every read).
import { readFileSync } from 'node:fs'
import { readRegularFileSync } from '../engine/regularFile'
import { currentBootId } from '../engine/sidecar'
import { parseEntry, percentOf, type StatusEntry, type StatusOwner } from './statusEntry'
import type { RawStatus } from './statusFile'

export interface AgingRules {
  /** Epoch seconds now. */
  now: number
  retentionHours: number
  staleMinutes: number
  host: string
  isPidAlive: (pid: number) => boolean
  /** A pid's start time (pidStartTime), to tell a reused pid from its owner. */
  pidStart?: (pid: number) => number | null
  /** Paths this process runs or queues right now: never stale, whatever their progress_time. */
  running: ReadonlySet<string>
}

const RUNNING_STATES = new Set(['starting', 'downloading', 'verifying'])
// A queued job waits in its owner's memory: it is stale when that owner is dead
// (it never makes progress while waiting, so progress_time says nothing).
const WAITING_STATES = new Set(['queued'])
const FINISHED_STATES = new Set(['completed', 'cancelled'])

export const STOPPED_REASON = 'the download process stopped'

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  // A killed process stays a zombie until its parent (often a busy or non-reaping
  // init in a container) collects it: kill(pid, 0) still succeeds, yet it is gone.
  return !isZombie(pid)
}

/** `/proc/<pid>/stat` field 3 is Z (zombie) or X (dead); false where there is no /proc. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state === 'Z' || state === 'X'
  } catch {
    return false
  }
}

/** When the process `pid` started, in clock ticks after boot (`/proc/<pid>/stat`
 *  field 22); null where there is no /proc or no such process. With the boot id
 *  it names one process for good: a restarted container reuses pids, not start times. */
export function pidStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which may itself hold spaces and ")": field 3 on.
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
    return Number.isSafeInteger(start) ? start : null
  } catch {
    return null
  }
}

/** An owner's recorded start time that differs from its pid's now: another process. */
function pidReused(o: StatusOwner, r: Pick<AgingRules, 'pidStart'>): boolean {
  if (o.start === undefined) return false
  const now = (r.pidStart ?? pidStartTime)(o.pid)
  return now !== null && now !== o.start
}

/** A pid recorded during another boot (a restarted machine reuses pids) is not alive. */
function sameBoot(boot: string | undefined): boolean {
  const current = currentBootId()
  return !boot || !current || boot === current
}

/** Whether an owner on this host is gone: its pid dead, from another boot, or reused. */
export function ownerGone(
  o: StatusOwner,
  r: Pick<AgingRules, 'host' | 'isPidAlive' | 'pidStart'>
): boolean {
  return o.host === r.host && (!sameBoot(o.boot) || !r.isPidAlive(o.pid) || pidReused(o, r))
}

/** Why an entry is stale under `r`, or undefined when it isn't. */
export function staleReason(e: StatusEntry, path: string, r: AgingRules): string | undefined {
  const running = RUNNING_STATES.has(e.status)
  if ((!running && !WAITING_STATES.has(e.status)) || r.running.has(path)) return undefined
  if (e.owner && ownerGone(e.owner, r)) return STOPPED_REASON
  if (!running) return undefined
  if (r.now - e.progress_time > r.staleMinutes * 60)
    return `the download made no progress for ${r.staleMinutes} minutes`
  return undefined
}

/** What the sidecar beside `path`'s .part proves is on disk, or null without one. */
export function sidecarProgress(path: string): { size: number; done: number } | null {
  try {
    const v = JSON.parse(readRegularFileSync(`${path}.part.json`) ?? 'null') as {
      size?: unknown
      segments?: { done?: unknown }[]
    }
    if (typeof v.size !== 'number' || !Array.isArray(v.segments)) return null
    const done = v.segments.reduce((n, s) => n + (typeof s.done === 'number' ? s.done : 0), 0)
    return { size: v.size, done }
  } catch {
    return null
  }
}

/** A stopped entry never claims less than its sidecar proves (nor a size it lost). */
function withKeptProgress(
  stopped: Record<string, unknown>,
  e: StatusEntry,
  kept: { size: number; done: number }
): Record<string, unknown> {
  if (kept.done <= e.downloaded && e.file_size !== null) return stopped
  const size = e.file_size ?? kept.size
  const downloaded = Math.max(e.downloaded, kept.done)
  const MiB = 1024 * 1024
  return {
    ...stopped,
    file_size: size,
    downloaded,
    progress: percentOf(downloaded, size),
    file_size_mb: Math.round((size / MiB) * 10) / 10,
    downloaded_mb: Math.round((downloaded / MiB) * 10) / 10
  }
}

/** What a stale entry becomes: paused when it can resume, else error with the reason. */
function stoppedEntry(raw: Record<string, unknown>, e: StatusEntry, reason: string, now: number) {
  return {
    ...raw,
    resumable: e.resumable,
    status: e.resumable ? 'paused' : 'error',
    error: e.resumable ? null : `The download stopped: ${reason}.`,
    error_code: e.resumable ? null : 'stale',
    // Its process went away: whoever picks the workspace up next resumes it.
    interrupted: true,
    speed: 0,
    speed_mb: 0,
    eta: null,
    eta_minutes: null,
    owner: null,
    timestamp: now,
    rev: e.rev + 1
  }
}

export interface Aged {
  changed: boolean
  /** Paths whose stale entries were marked stopped (a crashed owner's jobs, to resume). */
  stale: string[]
}

/** Applies retention and staleness to `raw` in place. Malformed entries are left
 *  exactly as they are. */
export function ageEntries(raw: RawStatus, r: AgingRules): Aged {
  let changed = false
  const stale: string[] = []
  for (const [path, value] of Object.entries(raw)) {
    const e = parseEntry(path, value)
    if (!e) continue
    if (FINISHED_STATES.has(e.status) && r.now - e.timestamp > r.retentionHours * 3600) {
      delete raw[path]
      changed = true
      continue
    }
    const reason = staleReason(e, path, r)
    if (reason !== undefined) {
      // A process killed between two status writes may have saved a sidecar
      // the entry does not show yet: its .part can go on from what it proves.
      const kept = sidecarProgress(path)
      const resumable = e.resumable || kept !== null
      const stopped = stoppedEntry(
        value as Record<string, unknown>,
        { ...e, resumable },
        reason,
        r.now
      )
      raw[path] = kept ? withKeptProgress(stopped, e, kept) : stopped
      changed = true
      stale.push(path)
    }
  }
  return { changed, stale }
}
