// The local target's jobs: a queue that runs a few at a time on the TypeScript
// engine, writes each step to the status file, and stops, resumes or retries
// jobs on request. The target owns the lifecycle; this owns the runs.
import { redirectsToSignedLink } from '../../sources/endpoints'
import { stat } from 'node:fs/promises'
import { ACTIVE_STATES, type Settings } from '../../../shared/types'
import { runDownload } from '../../engine/download'
import type { BandwidthLimiter } from '../../engine/bandwidthLimiter'
import { readSidecar, removePartial, sidecarPath } from '../../engine/sidecar'
import { WaitTooLong } from '../../engine/retryWait'
import { EngineError, type EngineOptions, type EngineResult } from '../../engine/types'
import { UserError } from '../../errors'
import { parsePastedUrl, type PastedUrl } from '../../sources/pastedUrl'
import { sourceOf } from '../../sources/sourceUrls'
import { stripSecrets } from '../../sources/urlSafety'
import {
  failed,
  finished,
  interrupted,
  pausedWith,
  progressed,
  requeued,
  stoppedWhileIdle
} from '../../status/jobEntries'
import { withDerived, type StatusEntry } from '../../status/statusEntry'
import { sidecarProgress } from '../../status/entryAging'
import type { StatusStore } from '../../status/statusStore'
import { clearControlRequest } from '../../status/controlRequests'

export interface Job {
  id: string
  path: string
  /** The link as pasted (signature, `?token=` and all): in memory and in the
   *  0600 sidecar only. Without it a run falls back to the sidecar's copy. */
  link?: PastedUrl
  overwrite: boolean
  /** Attempts of earlier runs, so the entry's count keeps growing across resumes. */
  attemptsBefore: number
  queued: boolean
  controller?: AbortController
  done?: Promise<void>
}

/** Engine tuning (tests shorten stalls and backoff). */
export type EngineTuning = Pick<
  EngineOptions,
  'stallTimeoutMs' | 'maxAttempts' | 'retryBaseMs' | 'segmentThreshold'
>

/** What the queue needs from its target. */
export interface JobQueueHost {
  store: StatusStore
  settings: () => Settings
  engine?: EngineTuning
  freeSpace?: (dir: string) => Promise<number>
  auth: (url: URL) => string | undefined
  authHint: (url: URL) => string | undefined

  /** Throws unless `path` still leads inside models/ or a configured extra folder. */
  checkStored: (path: string) => Promise<void>
  /** The target is closing: a job it stops is interrupted, not paused by the user. */
  closing: () => boolean
  /** The entry of a job this target lists, or a not-found error. */
  entry: (id: string) => [string, StatusEntry]
  /** A final state reached the status file. */
  onWritten: () => void
  /** The target's bandwidth budget, shared by its downloads. */
  limiter: BandwidthLimiter
  /** A download starts running (this process now takes part in the target's cap). */
  onRunning?: () => void
  /** A job completed (free space changed; its hash, taken while streaming, goes to the
   *  content index; its link and size to the workspace's source record). */
  onCompleted: (
    path: string,
    sha256: string | null,
    source: { url: string; size: number | null },
    sha256Later?: Promise<string | null>
  ) => Promise<void>
}

/** The share of the target's cap the download runs at, as the helper's entries show it
 *  (the field appears once a cap has applied, and is null after it is lifted). */
const withCap = (e: StatusEntry, cap: number | null): StatusEntry =>
  cap !== null || e.bandwidth_cap !== undefined ? { ...e, bandwidth_cap: cap } : e

export const isActive = (e: StatusEntry): boolean => ACTIVE_STATES.includes(e.status)

/** The refusal when another process runs (or queues) the entry. */
export function busyError(e: StatusEntry): UserError {
  const who = e.owner ? ` (process ${e.owner.pid} on ${e.owner.host})` : ''
  return new UserError('busy', `Another PodPull process${who} is running this download.`)
}

export class LocalJobQueue {
  private readonly jobs = new Map<string, Job>()
  private readonly queue: string[] = []
  private running = 0

  constructor(private readonly host: JobQueueHost) {}

  /** Downloads running in this process now. */
  get active(): number {
    return this.running
  }

  private get store(): StatusStore {
    return this.host.store
  }

  /** Queues a job whose entry was just claimed as `queued`. */
  add(job: Pick<Job, 'id' | 'path' | 'overwrite' | 'link'>): void {
    const j: Job = { ...job, attemptsBefore: 0, queued: false }
    this.jobs.set(j.id, j)
    this.enqueue(j)
  }

  /** Aborts the job's run if it is running here; resolves once its final state is written. */
  async abortRun(id: string, reason: 'pause' | 'cancel'): Promise<boolean> {
    const job = this.jobs.get(id)
    if (!job?.controller) return false
    job.controller.abort(reason)
    await job.done
    return true
  }

  /** Whether this process runs the job, queues it, or is writing its last state. */
  runs(id: string): boolean {
    const j = this.jobs.get(id)
    return j !== undefined && (j.queued || j.controller !== undefined || j.done !== undefined)
  }

  isQueued(id: string): boolean {
    return this.jobs.get(id)?.queued ?? false
  }

  forget(id: string): void {
    this.jobs.delete(id)
  }

  /** Stops every job (the target is closing): queued ones at once, running ones once written. */
  async stopAll(): Promise<void> {
    for (const id of this.queue.splice(0)) await this.stopIdle(id, 'paused')
    const running = [...this.jobs.values()].filter((j) => j.controller)
    for (const j of running) j.controller!.abort('pause')
    await Promise.all(running.map((j) => j.done))
  }

  private enqueue(job: Job): void {
    job.queued = true
    this.queue.push(job.id)
    this.pump()
  }

  private pump(): void {
    const limit = Math.max(1, this.host.settings().concurrency)
    while (this.running < limit && this.queue.length > 0) {
      const job = this.jobs.get(this.queue.shift()!)
      if (!job) continue
      job.queued = false
      this.running++
      job.done = this.run(job).finally(() => {
        this.running--
        job.done = undefined
        this.pump()
      })
    }
  }

  private async run(job: Job): Promise<void> {
    const e0 = this.store.get(job.path)
    if (!e0 || e0.status !== 'queued') return
    const controller = new AbortController()
    job.controller = controller
    this.host.onRunning?.()
    let last = this.store.put(job.path, { ...e0, status: 'starting' }, this.runningWrite(true))
    try {
      const link = job.link ?? (await linkFromSidecar(job.path, e0.url))
      const result = await runDownload(
        {
          id: job.id,
          url: link.given,
          keepUrl: link.given,
          signedRedirect: redirectsToSignedLink(link.given),
          finalPath: job.path,
          sha256: e0.sha256,
          connections: e0.connections,
          overwrite: job.overwrite
        },
        {
          ...this.host.engine,
          signal: controller.signal,
          auth: this.host.auth,
          authHint: this.host.authHint,
          freeSpace: this.host.freeSpace,
          limiter: this.host.limiter,
          // The one-shot CLI hashes nothing in the background: it would exit
          // before an idle hash caught up, and the CPU spent would be lost.
          idleHash: this.host.settings().backgroundHashing,
          onProgress: (p) => {
            const next = withCap(
              progressed(last, p, job.attemptsBefore, this.store.now()),
              this.host.limiter.rate
            )
            last = this.store.put(job.path, next, this.runningWrite(next.status !== last.status))
          }
        }
      )
      // Indexed before it shows completed: a next start of this content finds it.
      if (result.outcome === 'completed')
        await this.host.onCompleted(
          job.path,
          result.sha256 ?? last.sha256,
          { url: last.url, size: result.fileSize ?? last.file_size },
          result.sha256Later
        )
      await this.recordFinalState(job, finished(last, result, this.store.now()))
    } catch (err) {
      await this.recordFinalState(job, await this.failure(job, last, err, controller.signal))
    } finally {
      job.controller = undefined
      job.attemptsBefore = this.store.get(job.path)?.attempts ?? job.attemptsBefore
    }
  }

  private runningWrite(urgent: boolean) {
    return { urgent, running: true }
  }

  /** A job's final state for this run, on disk before pause()/cancel()/close() return. */
  private async recordFinalState(job: Job, final: StatusEntry): Promise<void> {
    const e = keptProgress(job.path, final)
    this.store.put(job.path, this.host.closing() ? interrupted(e) : e, { urgent: true })
    try {
      await this.store.flush()
      this.host.onWritten()
    } catch (err) {
      this.store.emit('error', err as Error)
    }
  }

  private async failure(
    job: Job,
    e: StatusEntry,
    err: unknown,
    signal: AbortSignal
  ): Promise<StatusEntry> {
    if (signal.aborted) {
      // Stopped on request while the engine was failing: honour the request.
      const r: EngineResult = {
        outcome: signal.reason === 'cancel' ? 'cancelled' : 'paused',
        fileSize: null,
        bytesFetched: 0,
        sha256: null,
        resumable: await hasPartial(job.path)
      }
      if (r.outcome === 'cancelled') await removePartial(job.path) // checked when the run began
      return finished(e, r, this.store.now())
    }
    if (err instanceof WaitTooLong) return pausedWith(e, err.message, err.code)
    if (err instanceof EngineError) return failed(e, err.message, err.resumable, err.code)
    if (err instanceof UserError) return failed(e, err.message, false, err.code)
    const why = err instanceof Error ? err.message : String(err)
    return failed(
      e,
      `The download failed unexpectedly: ${why}`,
      await hasPartial(job.path),
      'internal'
    )
  }

  /** Runs a paused or failed job again (`retry`: a fresh attempt count); `link`: a fresh link. */
  async requeue(id: string, retry: boolean, link?: PastedUrl): Promise<void> {
    const job = this.jobs.get(id)
    if (job?.queued) return // already on its way
    if (job?.done) {
      if (isActive(this.host.entry(id)[1])) return // running here
      await job.done // its run is writing its final state: let it finish first
    }
    const found = await this.entryToRequeue(id)
    if (!found) return // queued here meanwhile
    const [path, e] = found
    if (e.status === 'completed') throw new UserError('bad-state', 'This download has finished.')
    const j: Job = job ?? { id, path, overwrite: false, attemptsBefore: 0, queued: false }
    this.jobs.set(id, j)
    j.queued = true // checked and claimed below: nobody else may queue it meanwhile
    let claimed
    try {
      await this.checkStillContained(path, e)
      j.attemptsBefore = retry ? e.attempts : e.attempts - 1
      if (link) j.link = link
      const again = requeued(e, this.store.owner(), this.store.now(), retry)
      const next = link ? { ...again, url: link.shown, source: sourceOf(link.shown) } : again
      claimed = await this.store.claim(path, next, { urgent: true, running: true })
    } finally {
      j.queued = false
    }
    if (!claimed.ok) throw busyError(claimed.holder)
    await clearControlRequest(this.store.workspace, id).catch(() => undefined) // a leftover
    this.enqueue(j)
  }

  /** The entry a requeue starts from; refused while another process runs it. An
   *  active entry of this very process that no run here holds is its own run's
   *  last write seen out of order, never another process: the file is read again,
   *  and one still left active by this process is stopped in all but name. */
  private async entryToRequeue(id: string): Promise<[string, StatusEntry] | null> {
    let found = this.host.entry(id)
    if (!isActive(found[1])) return found
    if (this.store.ownedHere(found[1]) && !this.runs(id)) {
      await this.store.flush()
      await this.store.refresh()
      if (this.runs(id)) return null
      found = this.host.entry(id)
    }
    if (isActive(found[1]) && !this.store.ownedHere(found[1])) throw busyError(found[1])
    return found
  }

  /** A path read back from the status file is a claim, not a fact: an entry
   *  that no longer leads inside models/ (edited, symlink swapped in) is set to
   *  `error` and nothing is written there. */
  private async checkStillContained(path: string, e: StatusEntry): Promise<void> {
    try {
      await this.host.checkStored(path)
    } catch (err) {
      if (!(err instanceof UserError)) throw err
      this.store.put(path, failed(e, err.message, false, err.code), { urgent: true })
      await this.store.flush()
      throw err
    }
  }

  private contained(path: string): Promise<boolean> {
    return this.host.checkStored(path).then(
      () => true,
      () => false
    )
  }

  /** Pauses or cancels a job that the engine isn't running. */
  async stopIdle(id: string, state: 'paused' | 'cancelled'): Promise<void> {
    const i = this.queue.indexOf(id)
    if (i >= 0) this.queue.splice(i, 1)
    const job = this.jobs.get(id)
    if (job) job.queued = false
    const found = this.store.findById(id)
    if (!found) return
    const [path, e] = found
    // Deleted only where the stored path still leads inside the model folders.
    if (state === 'cancelled' && (await this.contained(path))) await removePartial(path)
    const resumable = state === 'paused' && (await hasPartial(path))
    const stopped = stoppedWhileIdle(e, state, resumable)
    this.store.put(path, this.host.closing() ? interrupted(stopped) : stopped, { urgent: true })
    await this.store.flush()
  }
}

/** The link to fetch when this process never saw it pasted (a resume after a
 *  restart): the sidecar's full copy when it is the entry's link, else the entry's. */
async function linkFromSidecar(path: string, shown: string): Promise<PastedUrl> {
  const kept = (await readSidecar(path))?.url
  return parsePastedUrl(kept !== undefined && stripSecrets(kept) === shown ? kept : shown)
}

/** A stopped entry shows at least what its sidecar proves is on disk (the
 *  engine's last report may be older than its last checkpoint). */
function keptProgress(path: string, e: StatusEntry): StatusEntry {
  if (e.status !== 'paused' && e.status !== 'error') return e
  const kept = sidecarProgress(path)
  if (!kept || (kept.done <= e.downloaded && e.file_size !== null)) return e
  return withDerived({
    ...e,
    downloaded: Math.max(e.downloaded, kept.done),
    file_size: e.file_size ?? kept.size
  })
}

async function hasPartial(path: string): Promise<boolean> {
  return stat(sidecarPath(path)).then(
    () => true,
    () => false
  )
}
