// One status-file entry (docs/formats.md): the seed's snake_case fields plus
// PodPull's, and the conversion to and from the dashboard's DownloadRecord.
// Both targets use this: the local target for its own file, the pod target for
// the helper's file read over SSH.
import { plainOrNull, plainText } from '../../shared/plainText'
import { JOB_STATES, type DownloadRecord, type JobState, type SourceKind } from '../../shared/types'

export interface StatusOwner {
  host: string
  pid: number
  engine: 'ts' | 'helper'
  /** The owner's boot id (Linux): a pid from another boot is not the same process. */
  boot?: string
  /** The owner's start time (`/proc/<pid>/stat` field 22): a reused pid has another. */
  start?: number
}

export interface StatusEntry {
  progress: number
  status: JobState
  url: string
  start_time: number
  timestamp: number
  file_size: number | null
  downloaded: number
  speed: number
  eta: number | null
  file_size_mb: number
  downloaded_mb: number
  speed_mb: number
  eta_minutes: number | null
  error: string | null
  id: string
  folder: string
  filename: string
  sha256: string | null
  source: SourceKind
  connections: number
  attempts: number
  owner: StatusOwner | null
  progress_time: number
  resumable: boolean
  rev: number
  /** With `error`: the machine-readable reason (docs/formats.md error codes). */
  error_code: string | null
  /** Stopped because its process went away (app quit, crash, pod restart), not
   *  by the user: the next owner resumes it when auto-resume is on. */
  interrupted: boolean
  /** What a running download waits for ("rate-limited by huggingface.co, going on in 2 s"). */
  notice?: string | null
  /** "upload": a file pushed from a computer to this target (absent: a download). */
  kind?: 'upload'
  /** An upload's computer (its host name): only it can continue the upload. */
  source_host?: string | null
  /** The share of the target's bandwidth cap the download runs at (bytes/s; null: lifted). */
  bandwidth_cap?: number | null
}

const MIB = 1024 * 1024
const round1 = (n: number): number => Math.round(n * 10) / 10
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const num = (v: unknown, dflt: number): number =>
  typeof v === 'number' && Number.isFinite(v) ? v : dflt
const numOrNull = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : null
const str = (v: unknown, dflt: string): string => (typeof v === 'string' ? v : dflt)
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/** An entry is well-formed when it is an object with a string `status`; anything
 *  else is skipped on read (and kept verbatim on write by the store). */
export function isWellFormed(raw: unknown): raw is Record<string, unknown> {
  return isRecord(raw) && typeof raw.status === 'string'
}

function parseOwner(v: unknown): StatusOwner | null {
  if (!isRecord(v) || typeof v.host !== 'string' || typeof v.pid !== 'number') return null
  return {
    host: v.host,
    pid: v.pid,
    engine: v.engine === 'helper' ? 'helper' : 'ts',
    ...(typeof v.boot === 'string' ? { boot: v.boot } : {}),
    ...(typeof v.start === 'number' ? { start: v.start } : {})
  }
}

function parseState(v: string): JobState {
  // A state we don't know (a newer writer) reads as an error rather than vanishing.
  return (JOB_STATES as readonly string[]).includes(v) ? (v as JobState) : 'error'
}

function parseSource(v: unknown): SourceKind {
  return v === 'huggingface' || v === 'civitai' ? v : 'direct'
}

/** Derives the record id for an entry that has none (a seed writer): stable per path. */
export function idForPath(path: string): string {
  let h1 = 0x811c9dc5
  let h2 = 0x01000193
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0')
}

function basename(path: string): string {
  return path.split(/[\\/]/).pop() ?? path
}

/** Reads an entry written by any writer (this app, the helper, the seed's web
 *  tool), filling what older writers leave out. Undefined when malformed. */
export function parseEntry(path: string, raw: unknown): StatusEntry | undefined {
  if (!isWellFormed(raw)) return undefined
  const timestamp = num(raw.timestamp, 0)
  const fileSize = numOrNull(raw.file_size)
  const downloaded = num(raw.downloaded, 0)
  const speed = num(raw.speed, 0)
  const eta = numOrNull(raw.eta)
  return {
    progress: num(raw.progress, 0),
    status: parseState(raw.status as string),
    url: str(raw.url, ''),
    start_time: num(raw.start_time, timestamp),
    timestamp,
    file_size: fileSize,
    downloaded,
    speed,
    eta,
    file_size_mb: num(raw.file_size_mb, fileSize === null ? 0 : round1(fileSize / MIB)),
    downloaded_mb: num(raw.downloaded_mb, round1(downloaded / MIB)),
    speed_mb: num(raw.speed_mb, round1(speed / MIB)),
    eta_minutes: eta === null ? null : num(raw.eta_minutes, round1(eta / 60)),
    error: strOrNull(raw.error),
    id: str(raw.id, idForPath(path)),
    folder: str(raw.folder, ''),
    filename: str(raw.filename, basename(path)),
    sha256: strOrNull(raw.sha256),
    source: parseSource(raw.source),
    connections: num(raw.connections, 1),
    attempts: num(raw.attempts, 1),
    owner: parseOwner(raw.owner),
    progress_time: num(raw.progress_time, timestamp),
    resumable: raw.resumable === true,
    // A writer without revisions (the seed) still moves forward in time.
    rev: num(raw.rev, Math.round(timestamp * 1000)),
    error_code: strOrNull(raw.error_code),
    interrupted: raw.interrupted === true,
    notice: strOrNull(raw.notice),
    ...(raw.kind === 'upload' ? { kind: 'upload', source_host: strOrNull(raw.source_host) } : {})
  }
}

/** Whole percent done, as the helper computes it (done * 100 // size): scaling
 *  first keeps it exact, where (290 / 1000) * 100 floors to 28. */
export function percentOf(done: number, size: number | null): number {
  return size && size > 0 ? Math.min(100, Math.floor((done * 100) / size)) : 0
}

/** Recomputes the fields that follow from the byte counts (progress, *_mb, eta_minutes). */
export function withDerived(e: StatusEntry): StatusEntry {
  const size = e.file_size
  const progress = e.status === 'completed' ? 100 : percentOf(e.downloaded, size)
  return {
    ...e,
    progress,
    file_size_mb: size === null ? 0 : round1(size / MIB),
    downloaded_mb: round1(e.downloaded / MIB),
    speed_mb: round1(e.speed / MIB),
    eta_minutes: e.eta === null ? null : round1(e.eta / 60)
  }
}

/** The dashboard's view of an entry. */
export function entryToRecord(targetId: string, path: string, e: StatusEntry): DownloadRecord {
  return {
    id: e.id,
    targetId,
    path,
    // Shown on the dashboard, printed by the CLI, kept in the snapshot cache:
    // whoever wrote the status file (a pod) does not get to send terminal codes.
    url: plainText(e.url, { oneLine: true }),
    folder: plainText(e.folder, { oneLine: true }),
    filename: plainText(e.filename, { oneLine: true }),
    state: e.status,
    progress: e.progress,
    fileSize: e.file_size,
    downloaded: e.downloaded,
    speed: e.speed,
    eta: e.eta,
    error: plainOrNull(e.error),
    errorCode: e.error_code === null ? null : plainText(e.error_code, { oneLine: true }),
    startTime: e.start_time,
    timestamp: e.timestamp,
    sha256: e.sha256,
    source: e.source,
    connections: e.connections,
    attempts: e.attempts,
    rev: e.rev,
    notice: e.notice ?? null,
    ...(e.kind === 'upload'
      ? {
          kind: 'upload',
          sourceHost: e.source_host ? plainText(e.source_host, { oneLine: true }) : null
        }
      : {})
  }
}

/** The on-disk entry for a record; what a record doesn't carry comes from `extra`. */
export function recordToEntry(
  r: DownloadRecord,
  extra: { owner: StatusOwner | null; progressTime: number; resumable: boolean }
): StatusEntry {
  return withDerived({
    progress: r.progress,
    status: r.state,
    url: r.url,
    start_time: r.startTime,
    timestamp: r.timestamp,
    file_size: r.fileSize,
    downloaded: r.downloaded,
    speed: r.speed,
    eta: r.eta,
    file_size_mb: 0,
    downloaded_mb: 0,
    speed_mb: 0,
    eta_minutes: null,
    error: r.error,
    id: r.id,
    folder: r.folder,
    filename: r.filename,
    sha256: r.sha256,
    source: r.source,
    connections: r.connections,
    attempts: r.attempts,
    owner: extra.owner,
    progress_time: extra.progressTime,
    resumable: extra.resumable,
    rev: r.rev,
    error_code: r.errorCode ?? null,
    interrupted: false,
    notice: r.notice ?? null
  })
}
