// What every target (a local ComfyUI install, a pod over SSH) offers the core.
// The core maps API calls onto these methods and forwards the events.
import type { EventEmitter } from 'node:events'
import type { TargetModels } from '../models/targetModels'
import type { StartDownloadArgs } from '../../shared/api'
import type { BandwidthLimits } from '../../shared/bandwidth'
import type {
  ConnectionTestResult,
  DownloadRecord,
  DownloadsChangedEvent,
  ModelFile,
  StartResult,
  TargetInfo
} from '../../shared/types'

/** A start request after the core has settled the folder. */
export type TargetStartRequest = Omit<StartDownloadArgs, 'targetId' | 'folder'> & { folder: string }

export interface TargetEvents {
  /** Records changed; emitted as they change (the core throttles what reaches the UI). */
  downloads: [DownloadsChangedEvent]
  /** Connection state, free space, last seen … changed. */
  info: [TargetInfo]
}

export interface Target extends EventEmitter<TargetEvents> {
  readonly id: string
  info(): TargetInfo
  /** Every record this target knows, including ones run by other processes. */
  downloads(): DownloadRecord[]
  /** Begin watching / connecting; resumes stale jobs when auto-resume is on. */
  open(): Promise<void>
  /** Stop watching. Local: running jobs are paused and left resumable. */
  close(): Promise<void>
  start(req: TargetStartRequest): Promise<StartResult>
  pause(id: string): Promise<void>
  /** Continue a paused or failed job; `url`: a fresh link to the same file. */
  resume(id: string, url?: string): Promise<void>
  cancel(id: string): Promise<void>
  retry(id: string): Promise<void>
  /** Drop a finished, failed or cancelled entry. */
  remove(id: string): Promise<void>
  clearCompleted(): Promise<number>
  listModels(): Promise<ModelFile[]>
  test(): Promise<ConnectionTestResult>
  /** The target's status file exactly as stored (`podpull status --json`). */
  rawStatus?(): Promise<Record<string, unknown>>
  /** Pods: the end of the helper's newest job logs, for `podpull diagnostics`. */
  helperLogTail?(): Promise<{ id: string; tail: string }[]>
  /** The cap for all the target's downloads together, and its schedule: applied
   *  to running downloads at once (local engine, or the pod helper). */
  setBandwidth?(limits: BandwidthLimits): Promise<void>
  /** Installed models: inventory with extra_model_paths.yaml, delete, sha256. */
  models?(): TargetModels
  /** Pods: push a file of this computer; resolves once the pod holds the upload. */
  push?(req: TargetPushRequest): Promise<StartResult>
  /** Trusts the host key the target's pod presents now, once the user checked
   *  `fingerprint` (for targets whose pod is found through an API, not an address). */
  trustHostKey?(fingerprint: string): Promise<void>
}

export interface TargetPushRequest {
  /** Absolute path of a file on this computer. */
  file: string
  folder: string
  filename: string
  overwrite?: boolean
}
