// A ComfyUI install on this machine. Jobs run in-process on the TypeScript
// engine, a few at a time; the workspace's status file is the truth they are
// written to, shared with the CLI, a second app and anything else on this host.
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { access, constants, realpath, stat } from 'node:fs/promises'
import { join, sep } from 'node:path'
import {
  ACTIVE_STATES,
  type ConnectionTestResult,
  type DownloadRecord,
  type LocalTargetConfig,
  type ModelFile,
  type Settings,
  type StartResult,
  type TargetInfo
} from '../../shared/types'
import { runDownload } from '../engine/download'
import { readSidecar, removePartial, sidecarPath } from '../engine/sidecar'
import { EngineError, type EngineOptions, type EngineResult } from '../engine/types'
import { formatBytes } from '../../shared/format'
import { sha256File, statfsFree } from '../engine/verify'
import { LocalPlaces } from '../sources/localPlaces'
import { LocalModels } from '../sources/localModels'
import { walkModels } from '../sources/modelsWalker'
import type { TargetModels } from '../sources/targetModels'
import { sanitizeFilename } from '../sources/fileNames'
import { probeUrl, type ProbeResult } from '../sources/probe'
import { sourceOf } from '../sources/sourceUrls'
import { parsePastedUrl, type PastedUrl } from '../sources/pastedUrl'
import { stripSecrets } from '../sources/urlSafety'
import {
  failed,
  finished,
  interrupted,
  progressed,
  queuedEntry,
  requeued,
  stoppedWhileIdle
} from '../status/jobEntries'
import { entryToRecord, type StatusEntry } from '../status/statusEntry'
import { StatusStore, type StatusChange } from '../status/statusStore'
import { UserError, type Target, type TargetEvents, type TargetStartRequest } from './target'

export interface LocalTargetDeps {
  settings: () => Settings
  auth: (url: URL) => string | undefined
  authHint: (url: URL) => string | undefined
  /** Epoch ms; injectable for tests. */
  clock?: () => number
  freeSpace?: (dir: string) => Promise<number>
  hostname?: string
  /** Engine tuning (tests shorten stalls and backoff). */
  engine?: Pick<
    EngineOptions,
    'stallTimeoutMs' | 'maxAttempts' | 'retryBaseMs' | 'segmentThreshold'
  >
  /** Status-file poll fallback and write batching, in ms. */
  statusPollMs?: number
  statusFlushMs?: number
}

interface Job {
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

const STATUS_WRITE_FAILED = 'The status file could not be updated'
const newId = (): string => randomBytes(8).toString('hex')
const isActive = (e: StatusEntry): boolean => ACTIVE_STATES.includes(e.status)

export class LocalTarget extends EventEmitter<TargetEvents> implements Target {
  readonly id: string
  private readonly name: string
  private readonly config: LocalTargetConfig
  private readonly store: StatusStore
  private readonly jobs = new Map<string, Job>()
  private readonly queue: string[] = []
  private running = 0
  private modelsDir: string
  /** The models folder with symlinks resolved: status keys use it (resolveDestination). */
  private realModels: string
  /** models/ plus the folders extra_model_paths.yaml configures. */
  private readonly places: LocalPlaces
  private freeBytes: number | null = null
  private message: string | null = null
  private opened = false
  /** close() is stopping jobs: their pauses are interruptions, not the user's. */
  private closing = false
  private readonly staleSeen: string[] = []

  constructor(
    def: { id: string; name: string; config: LocalTargetConfig },
    private readonly deps: LocalTargetDeps
  ) {
    super()
    this.id = def.id
    this.name = def.name
    this.config = def.config
    this.modelsDir = this.realModels = join(def.config.comfyui, 'models')
    this.places = new LocalPlaces(def.config.comfyui)
    this.store = new StatusStore({
      workspace: def.config.workspace,
      retentionHours: () => deps.settings().retentionHours,
      staleMinutes: () => deps.settings().staleMinutes,
      clock: deps.clock,
      host: deps.hostname,
      pollMs: deps.statusPollMs,
      flushIntervalMs: deps.statusFlushMs
    })
    this.store.on('change', (c) => this.forward(c))
    this.store.on('stale', (paths) => this.onStale(paths))
    this.store.on('error', (err) => {
      this.message = `${STATUS_WRITE_FAILED}: ${err.message}`
      this.emit('info', this.info())
    })
  }

  info(): TargetInfo {
    return {
      id: this.id,
      name: this.name,
      config: this.config,
      connection: this.message ? 'error' : 'online',
      lastSeen: Date.now(),
      freeBytes: this.freeBytes,
      comfyui: this.config.comfyui,
      message: this.message
    }
  }

  downloads(): DownloadRecord[] {
    const out: DownloadRecord[] = []
    for (const [p, e] of this.store.entries())
      if (this.owns(p)) out.push(entryToRecord(this.id, p, e))
    return out
  }

  async open(): Promise<void> {
    if (this.opened) return
    this.realModels = await realpath(this.modelsDir).catch(() => this.modelsDir)
    await this.places.roots() // before the store's first change: owns() needs them
    this.message = (await this.problem()) ?? null
    await this.store.open()
    this.opened = true
    await this.refreshFreeSpace()
    this.emit('info', this.info())
    this.resumeStale([...this.staleSeen.splice(0), ...this.interruptedPaths()])
  }

  /** Jobs an app quit or a crash stopped (not the user): picked up again at open. */
  private interruptedPaths(): string[] {
    const out: string[] = []
    for (const [p, e] of this.store.entries())
      if (e.status === 'paused' && e.interrupted && !e.owner) out.push(p)
    return out
  }

  async close(): Promise<void> {
    if (!this.opened) return
    this.opened = false
    this.closing = true
    try {
      for (const id of this.queue.splice(0)) await this.stopIdle(id, 'paused')
      const running = [...this.jobs.values()].filter((j) => j.controller)
      for (const j of running) j.controller!.abort('pause')
      await Promise.all(running.map((j) => j.done))
      await this.store.close()
    } finally {
      this.closing = false
    }
  }

  async start(req: TargetStartRequest): Promise<StartResult> {
    const link = parsePastedUrl(req.url)
    const url = link.shown
    const auth = this.authFor(link)
    let filename = req.filename
    let probe: ProbeResult | undefined
    if (!filename) {
      // Downloaded before from the same URL into the same folder: no need to ask the server.
      filename = this.earlierFilename(url, req.folder)
      if (!filename) {
        probe = await probeUrl(link.fetch, { auth, authHint: this.deps.authHint })
        filename = sanitizeFilename(probe.filename)
      }
    }
    const path = await this.places.destination(req.folder, filename)
    const cur = this.store.get(path)
    if (cur && isActive(cur)) return { id: cur.id, outcome: 'already-active', path }
    const sha256 = req.sha256 ?? probe?.sha256 ?? (cur?.url === url ? cur.sha256 : null)
    const existing = await stat(path).catch(() => undefined)
    if (existing && !req.overwrite) {
      await this.checkSameFile(path, existing.size, { link, sha256, probe, cur, auth })
      return { id: cur?.id ?? newId(), outcome: 'already-present', path }
    }
    const id = cur?.id ?? newId()
    const entry = queuedEntry({
      id,
      url,
      folder: req.folder,
      filename,
      sha256,
      source: sourceOf(url),
      // Run again without options: go on the way it was started (a sidecar's segments too).
      connections:
        req.connections ??
        (cur?.url === url ? cur.connections : undefined) ??
        this.deps.settings().connections,
      owner: this.store.owner(),
      now: this.store.now()
    })
    const claimed = await this.store.claim(path, entry, { urgent: true, running: true })
    if (!claimed.ok) return { id: claimed.holder.id, outcome: 'already-active', path }
    const job: Job = {
      id,
      path,
      overwrite: req.overwrite ?? false,
      attemptsBefore: 0,
      queued: false,
      link
    }
    this.jobs.set(id, job)
    this.enqueue(job)
    return { id, outcome: 'started', path }
  }

  async pause(id: string): Promise<void> {
    const [, e] = this.entry(id)
    const job = this.jobs.get(id)
    if (job?.controller) {
      job.controller.abort('pause')
      await job.done
    } else if (job?.queued) {
      await this.stopIdle(id, 'paused')
    } else if (isActive(e)) {
      throw this.busy(e)
    } else if (e.status !== 'paused') {
      throw new UserError('bad-state', `Only a running or queued download can be paused.`)
    }
  }

  async resume(id: string, url?: string): Promise<void> {
    await this.requeue(id, false, url === undefined ? undefined : parsePastedUrl(url))
  }

  async retry(id: string): Promise<void> {
    await this.requeue(id, true)
  }

  async cancel(id: string): Promise<void> {
    const [, e] = this.entry(id)
    const job = this.jobs.get(id)
    if (job?.controller) {
      job.controller.abort('cancel')
      await job.done
      return
    }
    if (isActive(e) && !job?.queued) throw this.busy(e)
    if (e.status === 'completed')
      throw new UserError('bad-state', 'This download has finished; remove it instead.')
    await this.stopIdle(id, 'cancelled')
  }

  async remove(id: string): Promise<void> {
    const [path, e] = this.entry(id)
    if (isActive(e))
      throw new UserError('busy', 'This download is still running: pause or cancel it first.')
    // A forgotten paused or failed job would leave its partial file behind for good.
    if (e.status !== 'completed') await removePartial(path)
    this.jobs.delete(id)
    this.store.delete(path)
    await this.store.flush()
  }

  async clearCompleted(): Promise<number> {
    let n = 0
    for (const [p, e] of [...this.store.entries()]) {
      if (!this.owns(p) || e.status !== 'completed') continue
      this.store.delete(p)
      this.jobs.delete(e.id)
      n++
    }
    await this.store.flush()
    return n
  }

  async listModels(): Promise<ModelFile[]> {
    return (await walkModels(this.modelsDir)).models
  }

  models(): TargetModels {
    return new LocalModels(this.config.comfyui)
  }

  async test(): Promise<ConnectionTestResult> {
    const problem = await this.problem()
    await this.refreshFreeSpace()
    return {
      ok: problem === undefined,
      message: problem ?? `ComfyUI found at ${this.config.comfyui}.`,
      comfyui: this.config.comfyui,
      freeBytes: this.freeBytes
    }
  }

  async rawStatus(): Promise<Record<string, unknown>> {
    return this.store.raw()
  }

  // ── jobs ────────────────────────────────────────────────────────────────

  private enqueue(job: Job): void {
    job.queued = true
    this.queue.push(job.id)
    this.pump()
  }

  private pump(): void {
    const limit = Math.max(1, this.deps.settings().concurrency)
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
    let last = this.store.put(job.path, { ...e0, status: 'starting' }, this.runningWrite(true))
    try {
      const link = job.link ?? (await linkFromSidecar(job.path, e0.url))
      const result = await runDownload(
        {
          id: job.id,
          url: link.fetch,
          keepUrl: link.given,
          finalPath: job.path,
          sha256: e0.sha256,
          connections: e0.connections,
          overwrite: job.overwrite
        },
        {
          ...this.deps.engine,
          signal: controller.signal,
          auth: this.authFor(link),
          authHint: this.deps.authHint,
          freeSpace: this.deps.freeSpace,
          onProgress: (p) => {
            const next = progressed(last, p, job.attemptsBefore, this.store.now())
            last = this.store.put(job.path, next, this.runningWrite(next.status !== last.status))
          }
        }
      )
      await this.settle(job, finished(last, result, this.store.now()))
      if (result.outcome === 'completed') void this.refreshFreeSpace()
    } catch (err) {
      await this.settle(job, await this.failure(job, last, err, controller.signal))
    } finally {
      job.controller = undefined
      job.attemptsBefore = this.store.get(job.path)?.attempts ?? job.attemptsBefore
    }
  }

  private runningWrite(urgent: boolean) {
    return { urgent, running: true }
  }

  /** A job's final state for this run, on disk before pause()/cancel()/close() return. */
  private async settle(job: Job, e: StatusEntry): Promise<void> {
    this.store.put(job.path, this.closing ? interrupted(e) : e, { urgent: true })
    try {
      await this.store.flush()
      if (this.message?.startsWith(STATUS_WRITE_FAILED)) {
        this.message = null // written again: whatever blocked it is gone
        this.emit('info', this.info())
      }
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
        resumable: await this.hasPartial(job.path)
      }
      if (r.outcome === 'cancelled') await removePartial(job.path)
      return finished(e, r, this.store.now())
    }
    if (err instanceof EngineError) return failed(e, err.message, err.resumable, err.code)
    if (err instanceof UserError) return failed(e, err.message, false, err.code)
    const why = err instanceof Error ? err.message : String(err)
    return failed(
      e,
      `The download failed unexpectedly: ${why}`,
      await this.hasPartial(job.path),
      'internal'
    )
  }

  private async requeue(id: string, retry: boolean, link?: PastedUrl): Promise<void> {
    const job = this.jobs.get(id)
    if (job?.queued) return // already on its way
    if (job?.done) {
      if (isActive(this.entry(id)[1])) return // running here
      await job.done // its run is writing its final state: let it finish first
    }
    const [path, e] = this.entry(id)
    if (isActive(e)) throw this.busy(e)
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
    if (!claimed.ok) throw this.busy(claimed.holder)
    this.enqueue(j)
  }

  /** A path read back from the status file is a claim, not a fact: an entry
   *  that no longer leads inside models/ (edited, symlink swapped in) is set to
   *  `error` and nothing is written there. */
  private async checkStillContained(path: string, e: StatusEntry): Promise<void> {
    try {
      await this.places.checkStored(path)
    } catch (err) {
      if (!(err instanceof UserError)) throw err
      this.store.put(path, failed(e, err.message, false, err.code), { urgent: true })
      await this.store.flush()
      throw err
    }
  }

  /** Pauses or cancels a job that the engine isn't running. */
  private async stopIdle(id: string, state: 'paused' | 'cancelled'): Promise<void> {
    const i = this.queue.indexOf(id)
    if (i >= 0) this.queue.splice(i, 1)
    const job = this.jobs.get(id)
    if (job) job.queued = false
    const found = this.store.findById(id)
    if (!found) return
    const [path, e] = found
    if (state === 'cancelled') await removePartial(path)
    const resumable = state === 'paused' && (await this.hasPartial(path))
    const stopped = stoppedWhileIdle(e, state, resumable)
    this.store.put(path, this.closing ? interrupted(stopped) : stopped, { urgent: true })
    await this.store.flush()
  }

  private resumeStale(paths: string[]): void {
    if (!this.deps.settings().autoResume) return
    for (const p of paths) {
      const e = this.store.get(p)
      if (!e || !this.owns(p) || e.status !== 'paused') continue
      this.requeue(e.id, false).catch(() => undefined) // another process took it: fine
    }
  }

  private onStale(paths: string[]): void {
    if (this.opened) this.resumeStale(paths)
    else this.staleSeen.push(...paths)
  }

  // ── helpers ─────────────────────────────────────────────────────────────

  private entry(id: string): [string, StatusEntry] {
    const found = this.store.findById(id)
    if (!found || !this.owns(found[0]))
      throw new UserError('not-found', 'That download is no longer listed.')
    return found
  }

  private busy(e: StatusEntry): UserError {
    const who = e.owner ? ` (process ${e.owner.pid} on ${e.owner.host})` : ''
    return new UserError('busy', `Another PodPull process${who} is running this download.`)
  }

  private owns(path: string): boolean {
    const inModels = path.startsWith(this.realModels + sep) || path.startsWith(this.modelsDir + sep)
    return inModels || this.places.ownsExtra(path)
  }

  private authFor(link: PastedUrl | undefined): (url: URL) => string | undefined {
    const t = link?.urlToken
    return (u) => (t && u.host === t.host ? t.auth : this.deps.auth(u))
  }

  private earlierFilename(url: string, folder: string): string | undefined {
    for (const [p, e] of this.store.entries())
      if (this.owns(p) && e.url === url && e.folder === folder) return e.filename
    return undefined
  }

  /** Throws unless the file at `path` is the one asked for (size, and sha256 when known). */
  private async checkSameFile(
    path: string,
    have: number,
    o: {
      link: PastedUrl
      sha256: string | null
      probe?: ProbeResult
      cur?: StatusEntry
      auth: (u: URL) => string | undefined
    }
  ): Promise<void> {
    // What this workspace downloaded from this URL before: no need to ask the server.
    const earlier = o.cur?.status === 'completed' && o.cur.url === o.link.shown ? o.cur : undefined
    const want =
      o.probe?.size ??
      earlier?.file_size ??
      (await probeUrl(o.link.fetch, { auth: o.auth, authHint: this.deps.authHint })).size
    const sha = o.sha256 ?? earlier?.sha256 ?? null
    const sameSize = want !== null && want === have
    if (sameSize && (!sha || (await sha256File(path)) === sha)) return
    const why =
      sha && sameSize
        ? 'its SHA-256 differs from the expected one'
        : want === null
          ? 'the download size is unknown, so it cannot be compared'
          : `it is ${formatBytes(have)}, the download is ${formatBytes(want)}`
    throw new UserError(
      'exists',
      `A different file already exists at ${path} (${why}): remove it or choose to overwrite it.`
    )
  }

  private async hasPartial(path: string): Promise<boolean> {
    return stat(sidecarPath(path)).then(
      () => true,
      () => false
    )
  }

  private async problem(): Promise<string | undefined> {
    if (!(await isDir(this.modelsDir)))
      return `${this.config.comfyui} has no models/ folder; is it a ComfyUI install?`
    const writable = await access(this.config.workspace, constants.W_OK).then(
      () => true,
      () => false
    )
    if (!writable) return `The workspace ${this.config.workspace} is not writable.`
    return undefined
  }

  private async refreshFreeSpace(): Promise<void> {
    const free = await (this.deps.freeSpace ?? statfsFree)(this.modelsDir).catch(() => null)
    if (free === this.freeBytes) return
    this.freeBytes = free
    if (this.opened) this.emit('info', this.info())
  }

  private forward(c: StatusChange): void {
    const upserts = c.upserts
      .filter(([p]) => this.owns(p))
      .map(([p, e]) => entryToRecord(this.id, p, e))
    const removed = c.removed
      .filter(([p]) => this.owns(p))
      .map(([, e]) => ({ id: e.id, rev: e.rev + 1 }))
    if (upserts.length || removed.length)
      this.emit('downloads', { targetId: this.id, upserts, removed })
  }
}

/** The link to fetch when this process never saw it pasted (a resume after a
 *  restart): the sidecar's full copy when it is the entry's link, else the entry's. */
async function linkFromSidecar(path: string, shown: string): Promise<PastedUrl> {
  const kept = (await readSidecar(path))?.url
  return parsePastedUrl(kept !== undefined && stripSecrets(kept) === shown ? kept : shown)
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false
  )
}
