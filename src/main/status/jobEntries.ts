// How a job's life shows up in its status entry: created queued, moved by the
// engine's progress reports, settled by the engine's outcome or error.
import { plainText } from '../../shared/plainText'
import type { SourceKind } from '../../shared/types'
import type { EngineProgress, EngineResult } from '../engine/types'
import { withDerived, type StatusEntry, type StatusOwner } from './statusEntry'

export interface NewJob {
  id: string
  url: string
  folder: string
  filename: string
  sha256: string | null
  source: SourceKind
  connections: number
  owner: StatusOwner
  /** Epoch seconds. */
  now: number
}

export function queuedEntry(j: NewJob): StatusEntry {
  return withDerived({
    progress: 0,
    status: 'queued',
    url: j.url,
    start_time: j.now,
    timestamp: j.now,
    file_size: null,
    downloaded: 0,
    speed: 0,
    eta: null,
    file_size_mb: 0,
    downloaded_mb: 0,
    speed_mb: 0,
    eta_minutes: null,
    error: null,
    error_code: null,
    id: j.id,
    folder: j.folder,
    filename: j.filename,
    sha256: j.sha256,
    source: j.source,
    connections: j.connections,
    attempts: 1,
    owner: j.owner,
    progress_time: j.now,
    resumable: false,
    rev: 0,
    interrupted: false
  })
}

/** Back in the queue (resume, retry): ours again, moving again. */
export function requeued(e: StatusEntry, owner: StatusOwner, now: number, retry: boolean) {
  return withDerived({
    ...e,
    status: 'queued',
    error: null,
    error_code: null,
    interrupted: false,
    speed: 0,
    eta: null,
    owner,
    progress_time: now,
    attempts: retry ? e.attempts + 1 : e.attempts
  })
}

/** An engine report; `attemptsBefore` are the attempts of earlier runs of this job. */
export function progressed(
  e: StatusEntry,
  p: EngineProgress,
  attemptsBefore: number,
  now: number
): StatusEntry {
  // Before the engine has read the .part (its first 'starting' report) it knows
  // no size and no bytes: the entry keeps what earlier runs recorded.
  const unknown = p.state === 'starting' && p.fileSize === null
  return withDerived({
    ...e,
    status: p.state,
    file_size: unknown ? e.file_size : p.fileSize,
    downloaded: unknown ? e.downloaded : p.downloaded,
    speed: p.speed,
    eta: p.eta,
    attempts: attemptsBefore + p.attempts,
    resumable: p.resumable,
    notice: p.notice,
    progress_time: p.downloaded > e.downloaded ? now : e.progress_time
  })
}

const stoppedFields = {
  speed: 0,
  eta: null,
  owner: null,
  interrupted: false,
  notice: null
} as const

/** The entry once the engine returned. */
export function finished(e: StatusEntry, r: EngineResult, now: number): StatusEntry {
  if (r.outcome === 'completed' || r.outcome === 'already-present') {
    const size = r.fileSize ?? e.file_size
    return withDerived({
      ...e,
      ...stoppedFields,
      status: 'completed',
      error: null,
      error_code: null,
      file_size: size,
      downloaded: size ?? e.downloaded,
      sha256: r.sha256 ?? e.sha256,
      resumable: false,
      progress_time: now
    })
  }
  const paused = r.outcome === 'paused'
  return withDerived({
    ...e,
    ...stoppedFields,
    status: paused ? 'paused' : 'cancelled',
    error: null,
    error_code: null,
    resumable: paused && r.resumable
  })
}

export function failed(
  e: StatusEntry,
  message: string,
  resumable: boolean,
  code: string | null = null
): StatusEntry {
  return withDerived({
    ...e,
    ...stoppedFields,
    status: 'error',
    // Reasons quote servers (a reason phrase, a page title): stored without control codes.
    error: plainText(message),
    error_code: code,
    resumable
  })
}

/** Paused by the engine itself (a server asked for a wait past the cap): kept, with why. */
export function pausedWith(e: StatusEntry, message: string, code: string | null): StatusEntry {
  return withDerived({
    ...e,
    ...stoppedFields,
    status: 'paused',
    error: message,
    error_code: code,
    resumable: true
  })
}

/** Paused because this process is going away, not by the user: the next owner resumes it. */
export function interrupted(e: StatusEntry): StatusEntry {
  return e.status === 'paused' ? { ...e, interrupted: true } : e
}

/** Paused or cancelled without the engine running (it was queued, or stopped earlier). */
export function stoppedWhileIdle(
  e: StatusEntry,
  state: 'paused' | 'cancelled',
  resumable: boolean
): StatusEntry {
  return withDerived({
    ...e,
    ...stoppedFields,
    status: state,
    error: null,
    error_code: null,
    resumable
  })
}
