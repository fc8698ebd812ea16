// The TypeScript download engine's contract. The engine moves bytes for one job
// into <finalPath>.part (+ sidecar, see docs/formats.md), verifies, installs by
// rename. It knows nothing of the status file: it reports through onProgress,
// and the local target turns reports into status-file entries.
import type { JobState } from '../../shared/types'
import { PodPullError, type ErrorCode } from '../errors'
import type { BandwidthLimiter } from './bandwidthLimiter'

export interface EngineJob {
  id: string
  /** The URL to fetch, exactly as requested (a signed link keeps its signature). */
  url: string
  /** The link as the user gave it (it may hold secrets): kept only in the 0600
   *  sidecar, so a later run can resume with it. Default: `url`. */
  keepUrl?: string
  /** Absolute, already validated and contained final path. */
  finalPath: string
  sha256?: string | null
  /** Connections wanted (1 = no segmenting). */
  connections: number
  /** Replace a different existing file at finalPath. */
  overwrite?: boolean
  /** `url` is a hub's resolve URL that redirects to a short-lived signed link
   *  (Hugging Face /resolve/, Civitai /api/download/): it is asked without
   *  Range, and ranges go to the link (signedLink.ts). */
  signedRedirect?: boolean
}

export interface EngineProgress {
  state: Extract<JobState, 'starting' | 'downloading' | 'verifying'>
  fileSize: number | null
  downloaded: number
  /** Smoothed bytes/s. */
  speed: number
  /** Seconds, null while unknown. */
  eta: number | null
  attempts: number
  /** A .part + sidecar exist and the server gave a strong validator. */
  resumable: boolean
  /** The connections actually in use. */
  connections: number
  /** What the download waits for, in words ("rate-limited by huggingface.co, going on in 2 s"). */
  notice: string | null
}

export type EngineOutcome = 'completed' | 'already-present' | 'paused' | 'cancelled'

export interface EngineResult {
  outcome: EngineOutcome
  fileSize: number | null
  /** Bytes fetched over the network in this run (for the re-fetch budget). */
  bytesFetched: number
  sha256: string | null
  resumable: boolean
  /** Completed without a sha256 to check: the hash an idle-priority thread took
   *  as it streamed, settled after the install (null when it could not finish). */
  sha256Later?: Promise<string | null>
}

/** Why a download failed, as one sentence the user can act on. */
export class EngineError extends PodPullError {
  constructor(
    code: ErrorCode,
    message: string,
    /** Whether the .part was kept and a resume makes sense. */
    readonly resumable = false,
    /** The HTTP status that refused the request, when one did. */
    readonly httpStatus?: number
  ) {
    super(code, message)
    this.name = 'EngineError'
  }
}

export interface EngineOptions {
  /** abort('pause') keeps the .part; abort('cancel') removes it. */
  signal: AbortSignal
  onProgress: (p: EngineProgress) => void
  /** The Authorization header value for a URL's host, if any (dropped across hosts by the engine). */
  auth: (url: URL) => string | undefined
  /** The fix to name when a host answers 401/403 or a login page, e.g.
   *  "Civitai needs an API token: set CIVITAI_API_TOKEN or add it in Settings". */
  authHint?: (url: URL) => string | undefined
  /** Free bytes at a directory; injectable for tests. */
  freeSpace?: (dir: string) => Promise<number>
  /** Milliseconds without a byte before a connection is retried (default 60 000). */
  stallTimeoutMs?: number
  /** Attempts before giving up on network errors / 5xx / 429 (default 8). */
  maxAttempts?: number
  /** First backoff delay in ms (default 1000, doubled each time, capped at 30 s). */
  retryBaseMs?: number
  /** The longest wait a server may ask for (Retry-After, RateLimit) before the
   *  download stops instead, resumable (default 5 min). */
  maxWaitMs?: number
  /** Minimum size in bytes before several connections are used (default 16 MiB). */
  segmentThreshold?: number
  /** The target's bandwidth budget, shared by all its downloads (bandwidthLimiter.ts). */
  limiter?: BandwidthLimiter
  /** Hash a download without a sha256 as it streams, on an idle-priority thread
   *  (default true). Off in a process that would end before the hash does. */
  idleHash?: boolean
}
