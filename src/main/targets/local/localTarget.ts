// A ComfyUI install on this machine: the target's lifecycle (open, close,
// auto-resume of interrupted jobs) and the Target methods mapped onto its job
// queue (localJobQueue.ts) and start checks (localStartChecks.ts). Jobs run
// in-process on the TypeScript engine; the workspace's status file is the truth
// they are written to, shared with the CLI, a second app and anything else on this host.
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { realpath, stat } from 'node:fs/promises'
import { isAbsolute, join, normalize, relative, sep } from 'node:path'
import type {
  ConnectionTestResult,
  DownloadRecord,
  LocalTargetConfig,
  HashingProgress,
  ModelFile,
  Settings,
  StartResult,
  TargetInfo
} from '../../../shared/types'
import { removePartial } from '../../engine/sidecar'
import { statfsFree } from '../../engine/verify'
import { LocalPlaces } from '../../models/localPlaces'
import { LocalModels } from '../../models/localModels'
import { walkModels } from '../../models/modelsWalker'
import { sourceOf } from '../../sources/sourceUrls'
import { parsePastedUrl } from '../../sources/pastedUrl'
import { finished, queuedEntry } from '../../status/jobEntries'
import { appendSourceRecord } from '../../models/sourceRecord'
import { ContentIndex, stampOf, type FileStamp } from '../../models/contentIndex'
import { linkSameContent } from './linkSameContent'
import { entryToRecord, type StatusEntry } from '../../status/statusEntry'
import { StatusStore, type StatusChange, type StatusStoreOptions } from '../../status/statusStore'
import { clearControlRequest, ControlInbox, type ControlWord } from '../../status/controlRequests'
import { UserError } from '../../errors'
import type { Target, TargetEvents, TargetStartRequest } from '../target'
import { memoryOwnJobs, type OwnJobs } from '../ownJobs'
import { isActive, LocalJobQueue, type EngineTuning } from './localJobQueue'
import { askOwner } from './askOwner'
import { checkSameFile, chooseFilename, setupProblem } from './localStartChecks'
import { BandwidthLimiter } from '../../engine/bandwidthLimiter'
import { BandwidthShare, SharedCap } from './bandwidthShare'
import { BandwidthControl, configWithLimits, inForce } from '../bandwidthControl'
import { LimitsFileWatch, writeLocalLimits } from '../limitsFile'
import type { BandwidthLimits } from '../../../shared/bandwidth'

export interface LocalTargetDeps {
  settings: () => Settings
  auth: (url: URL) => string | undefined
  authHint: (url: URL) => string | undefined
  /** Epoch ms; injectable for tests. */
  clock?: () => number
  freeSpace?: (dir: string) => Promise<number>
  hostname?: string
  /** Engine tuning (tests shorten stalls and backoff). */
  engine?: EngineTuning
  /** The downloads this PodPull started here or its user resumed (default: this run's only). */
  ownJobs?: OwnJobs
  /** Status-file poll fallback and write batching, in ms. */
  statusPollMs?: number
  statusFlushMs?: number
  /** How long another process has to act on a pause or cancel (default 6 s). */
  controlAnswerMs?: number
  /** The budget all this target's downloads share (tests hold one to watch it). */
  limiter?: BandwidthLimiter
  /** How the status file is re-read (tests hold a read to order it against a write). */
  statusRead?: StatusStoreOptions['readForRefresh']
}

const STATUS_WRITE_FAILED = 'The status file could not be updated'
const newId = (): string => randomBytes(8).toString('hex')

export class LocalTarget extends EventEmitter<TargetEvents> implements Target {
  readonly id: string
  private readonly name: string
  private readonly config: LocalTargetConfig
  private readonly store: StatusStore
  private readonly jobs: LocalJobQueue
  /** Pause and cancel requests from other PodPull processes for the jobs we run. */
  private readonly inbox: ControlInbox
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
  /** Idle-hash recordings under way: close() drops those still waiting for
   *  their hash and waits for any already writing the index. */
  private readonly recordings = new Set<Promise<void>>()
  private dropRecordings: () => void = () => undefined
  private recordingsDropped: Promise<null> = Promise.resolve(null)
  private readonly staleSeen: string[] = []
  /** Background hashing into the content index: its progress, and how to stop it. */
  private hashing: HashingProgress | null = null
  private hashRun: { stop: AbortController; done: Promise<void>; ended: boolean } | null = null
  /** Asked to hash while a run was under way: one more run once it ends. */
  private hashAgain = false
  private readonly ownJobs: OwnJobs
  private readonly limiter: BandwidthLimiter
  private readonly bandwidth: BandwidthControl
  /** This process's part of the cap, shared with the other processes downloading here. */
  private readonly sharedCap: SharedCap

  constructor(
    def: { id: string; name: string; config: LocalTargetConfig },
    private readonly deps: LocalTargetDeps
  ) {
    super()
    this.id = def.id
    this.name = def.name
    this.config = def.config
    this.ownJobs = deps.ownJobs ?? memoryOwnJobs()
    const limiter = (this.limiter = deps.limiter ?? new BandwidthLimiter())
    this.sharedCap = new SharedCap(
      limiter,
      new BandwidthShare(def.config.workspace),
      () => this.jobs.active > 0
    )
    const limitsFile = new LimitsFileWatch(def.config.workspace)
    this.bandwidth = new BandwidthControl(def.config.bandwidth, {
      clock: deps.clock,
      reload: () => limitsFile.changed(),
      onCap: (cap) => {
        this.sharedCap.setCap(cap.bytesPerSec)
        if (this.opened) this.emit('info', this.info())
      }
    })
    this.modelsDir = this.realModels = join(def.config.comfyui, 'models')
    this.places = new LocalPlaces(def.config.comfyui)
    this.store = new StatusStore({
      workspace: def.config.workspace,
      retentionHours: () => deps.settings().retentionHours,
      staleMinutes: () => deps.settings().staleMinutes,
      clock: deps.clock,
      host: deps.hostname,
      pollMs: deps.statusPollMs,
      flushIntervalMs: deps.statusFlushMs,
      readForRefresh: deps.statusRead
    })
    this.store.on('change', (c) => this.forward(c))
    this.store.on('stale', (paths) => this.onStale(paths))
    this.store.on('notice', (text) => {
      this.message = text
      this.emit('info', this.info())
    })
    this.store.on('error', (err) => {
      this.message = `${STATUS_WRITE_FAILED}: ${err.message}`
      this.emit('info', this.info())
    })
    this.jobs = new LocalJobQueue({
      store: this.store,
      settings: deps.settings,
      engine: deps.engine,
      freeSpace: deps.freeSpace,
      auth: deps.auth,
      authHint: deps.authHint,
      limiter: this.limiter,
      onRunning: () => void this.sharedCap.apply(),
      checkStored: (path) => this.places.checkStored(path),
      closing: () => this.closing,
      entry: (id) => this.entry(id),
      onWritten: () => this.statusWritten(),
      onCompleted: async (path, sha, source, later) => {
        void this.refreshFreeSpace()
        // A download without a sha256 to check was hashed by an idle-priority
        // thread, which may still be at it: its hash is recorded when it comes.
        // Without one (or when it failed) the background hasher takes the file.
        if (sha) await this.recordHash(path, sha)
        else if (later) this.trackRecording(this.recordLater(path, later))
        else this.hashInBackground()
        // Only what export names the source by: a lost line exports the file as "local".
        await appendSourceRecord(this.config.workspace, { path, sha256: sha, ...source }).catch(
          () => undefined
        )
      }
    })
    this.inbox = new ControlInbox(def.config.workspace, {
      runs: (id) => this.jobs.runs(id),
      act: async (id, word) => void (await this.stopHere(id, word))
    })
  }

  info(): TargetInfo {
    return {
      id: this.id,
      name: this.name,
      config: configWithLimits(this.config, this.bandwidth),
      connection: this.message ? 'error' : 'online',
      lastSeen: Date.now(),
      freeBytes: this.freeBytes,
      comfyui: this.config.comfyui,
      message: this.message,
      hashing: this.hashing,
      bandwidth: inForce(this.bandwidth)
    }
  }

  /** New limits reach this process's downloads at once (no reopen), and
   *  every other process's through the workspace's limits file. */
  async setBandwidth(limits: BandwidthLimits): Promise<void> {
    await writeLocalLimits(this.config.workspace, limits)
    this.config.bandwidth = limits
    this.bandwidth.set(limits)
  }

  downloads(): DownloadRecord[] {
    const out: DownloadRecord[] = []
    for (const [p, e] of this.store.entries())
      if (this.owns(p)) out.push(entryToRecord(this.id, p, e))
    return out
  }

  async open(): Promise<void> {
    if (this.opened) return
    this.recordingsDropped = new Promise((r) => (this.dropRecordings = () => r(null)))
    this.realModels = await realpath(this.modelsDir).catch(() => this.modelsDir)
    await this.places.roots() // before the store's first change: owns() needs them
    this.message = (await setupProblem(this.config, this.modelsDir)) ?? null
    await this.store.open()
    await this.inbox.start()
    await this.adoptLimits()
    this.bandwidth.start()
    this.sharedCap.start()
    this.opened = true
    await this.refreshFreeSpace()
    this.emit('info', this.info())
    this.resumeStale([...this.staleSeen.splice(0), ...this.interruptedPaths()])
    if (this.deps.settings().backgroundHashing) this.startHashing()
  }

  /** The workspace's limits file is the truth (another process may have set
   *  it); limits known only to the settings are written there. */
  private async adoptLimits(): Promise<void> {
    const onDisk = await new LimitsFileWatch(this.config.workspace).changed().catch(() => null)
    if (onDisk) this.bandwidth.set(onDisk)
    else if (this.config.bandwidth)
      await writeLocalLimits(this.config.workspace, this.config.bandwidth).catch(() => undefined)
  }

  /** Hashes the files the content index lacks, at low priority, until done or
   *  closed; asked again meanwhile (a download finished), it runs once more after
   *  (files already in the index are skipped, so a rerun costs a walk). */
  private startHashing(): void {
    if (!this.opened) return // closing: close() has stopped the run it waits for
    if (this.hashRun && !this.hashRun.ended) return void (this.hashAgain = true)
    this.hashAgain = false
    const stop = new AbortController()
    const show = (p: HashingProgress | null): void => {
      this.hashing = p
      if (this.opened) this.emit('info', this.info())
    }
    const run = { stop, done: Promise.resolve(), ended: false }
    run.done = this.models()
      .indexContent({ signal: stop.signal, onProgress: show })
      .then(
        () => show(null),
        () => show(null) // a file vanished or unreadable: the next open tries again
      )
      .finally(() => {
        run.ended = true
        if (this.hashAgain && this.opened && !stop.signal.aborted) this.startHashing()
      })
    this.hashRun = run
  }

  private hashInBackground(): void {
    if (this.deps.settings().backgroundHashing) this.startHashing()
  }

  private async recordHash(path: string, sha256: string, stamp?: FileStamp): Promise<void> {
    const s = await stat(path).catch(() => undefined)
    if (!s) return
    const now = stampOf(s)
    // Changed since the hash was taken (replaced, rewritten): its own hash comes later.
    if (stamp && (stamp.size !== now.size || stamp.mtimeMs !== now.mtimeMs)) return
    const index = await ContentIndex.forWorkspace(this.config.workspace).load()
    index.put(path, now, sha256)
    await index.save().catch(() => undefined) // only a cache: the file is hashed again later
  }

  /** The idle hash of a just-installed file, for the index once it settles. */
  private async recordLater(path: string, later: Promise<string | null>): Promise<void> {
    const s = await stat(path).catch(() => undefined)
    const sha = await Promise.race([later, this.recordingsDropped])
    // Closed meanwhile: nothing is written after close (the file is hashed at the next open).
    if (!this.opened) return
    if (!sha || !s) return this.hashInBackground()
    await this.recordHash(path, sha, stampOf(s))
    // The file's hash and "same as" are known now: a view listing it may ask again.
    if (this.opened) this.emit('info', this.info())
  }

  private trackRecording(p: Promise<void>): void {
    const done = p.catch(() => undefined) // only a cache: a failed recording is hashed again later
    this.recordings.add(done)
    void done.finally(() => this.recordings.delete(done))
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
      this.inbox.stop()
      this.bandwidth.stop()
      this.hashRun?.stop.abort()
      await this.hashRun?.done
      this.hashRun = null
      await this.jobs.stopAll()
      this.dropRecordings()
      await Promise.all(this.recordings)
      await this.sharedCap.stop()
      await this.store.close()
    } finally {
      this.closing = false
    }
  }

  async start(req: TargetStartRequest): Promise<StartResult> {
    const link = parsePastedUrl(req.url)
    const url = link.shown
    const auth = this.deps.auth
    const { filename, probe } = await chooseFilename({
      asked: req.filename,
      link,
      folder: req.folder,
      entries: this.ownEntries(),
      auth,
      authHint: this.deps.authHint
    })
    const path = await this.places.destination(req.folder, filename)
    const cur = this.store.get(path)
    if (cur && isActive(cur)) return { id: cur.id, outcome: 'already-active', path }
    const sha256 = req.sha256 ?? probe?.sha256 ?? (cur?.url === url ? cur.sha256 : null)
    const existing = await stat(path).catch(() => undefined)
    if (existing && !req.overwrite) {
      await checkSameFile(path, existing.size, {
        link,
        sha256,
        probe,
        cur,
        auth,
        authHint: this.deps.authHint
      })
      return { id: cur?.id ?? newId(), outcome: 'already-present', path }
    }
    const id = cur?.id ?? newId()
    const job = {
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
    }
    if (sha256 && !existing) {
      const linked = await this.linkInstead(path, sha256, job)
      if (linked) return linked
    }
    const entry = queuedEntry(job)
    const claimed = await this.store.claim(path, entry, { urgent: true, running: true })
    if (!claimed.ok) return { id: claimed.holder.id, outcome: 'already-active', path }
    this.ownJobs.add(id, path)
    await clearControlRequest(this.store.workspace, id).catch(() => undefined) // a leftover
    this.jobs.add({ id, path, overwrite: req.overwrite ?? false, link })
    return { id, outcome: 'started', path }
  }

  /** The content is on this target under another name: link it, record it done, fetch nothing. */
  private async linkInstead(
    path: string,
    sha256: string,
    job: Parameters<typeof queuedEntry>[0]
  ): Promise<StartResult | null> {
    const index = await ContentIndex.forWorkspace(this.config.workspace).load()
    const l = await linkSameContent(index, sha256, path, (p) => this.owns(p))
    if (!l) return null
    const now = this.store.now()
    const result = {
      outcome: 'completed',
      fileSize: l.size,
      bytesFetched: 0,
      sha256,
      resumable: false
    } as const
    const from = this.shown(l.from)
    const how = l.by === 'hardlink' ? 'linked' : 'copied (another file system)'
    const done = {
      ...finished(queuedEntry(job), result, now),
      notice: `Already had it as ${from} — ${how}`
    }
    this.store.put(path, done, { urgent: true })
    this.ownJobs.add(job.id, path)
    await this.store.flush()
    return { id: job.id, outcome: 'linked', path, linkedFrom: from, linkedBy: l.by }
  }

  /** "loras/old.safetensors" for a file under models/, the full path elsewhere. */
  private shown(p: string): string {
    for (const dir of [this.modelsDir, this.realModels])
      if (p.startsWith(dir + sep)) return relative(dir, p).split(sep).join('/')
    return p
  }

  async pause(id: string): Promise<void> {
    await this.readFresh()
    if (await this.stopHere(id, 'pause')) return
    const e = await this.settleElsewhere(id, 'pause')
    if (!e || (e.status === 'paused' && !e.interrupted)) return
    // Stopped by its process dying (the user's pause now: no auto-resume), or
    // left active by this process without a run: settle it here.
    if (e.status === 'paused' || isActive(e)) return this.jobs.stopIdle(id, 'paused')
    throw new UserError('bad-state', `Only a running or queued download can be paused.`)
  }

  async resume(id: string, url?: string): Promise<void> {
    await this.readFresh()
    const [, e] = this.entry(id)
    if (isActive(e) && !this.jobs.runs(id) && this.heldElsewhere(e)) {
      if (url === undefined) return // running in its own process already
      // A fresh link for a download another process runs: it stops, this one goes on.
      await this.settleElsewhere(id, 'pause')
    }
    this.adopt(id)
    await this.jobs.requeue(id, false, url === undefined ? undefined : parsePastedUrl(url))
  }

  async retry(id: string): Promise<void> {
    this.adopt(id)
    await this.jobs.requeue(id, true)
  }

  /** The user resumed it by hand: from now on it is one of this PodPull's. */
  private adopt(id: string): void {
    const [path] = this.entry(id)
    this.ownJobs.add(id, path)
  }

  async cancel(id: string): Promise<void> {
    await this.readFresh()
    if (await this.stopHere(id, 'cancel')) return
    const e = await this.settleElsewhere(id, 'cancel')
    if (e?.status === 'completed')
      throw new UserError('bad-state', 'This download has finished; remove it instead.')
    if (e && e.status !== 'cancelled') await this.jobs.stopIdle(id, 'cancelled')
  }

  /** Pauses or cancels a job this process runs or queues; false when it doesn't. */
  private async stopHere(id: string, word: ControlWord): Promise<boolean> {
    this.entry(id)
    if (await this.jobs.abortRun(id, word)) return true
    if (!this.jobs.isQueued(id)) return false
    await this.jobs.stopIdle(id, word === 'pause' ? 'paused' : 'cancelled')
    return true
  }

  /** A job this process does not run: when another live process does, it is
   *  asked to stop and this resolves once it has (with the entry as left). */
  private async settleElsewhere(id: string, word: ControlWord): Promise<StatusEntry | undefined> {
    const [path, e] = this.entry(id)
    if (!isActive(e) || !this.heldElsewhere(e)) return e
    return askOwner({
      store: this.store,
      workspace: this.config.workspace,
      path,
      entry: e,
      word,
      answerMs: this.deps.controlAnswerMs
    })
  }

  /** An active entry some other process holds (a dead one's is aged to stopped already). */
  private heldElsewhere(e: StatusEntry): boolean {
    return e.owner !== null && !this.store.ownedHere(e)
  }

  async remove(id: string): Promise<void> {
    const [path, e] = this.entry(id)
    if (isActive(e))
      throw new UserError('busy', 'This download is still running: pause or cancel it first.')
    // A forgotten paused or failed job would leave its partial file behind for
    // good; deleted only where the path still leads inside the model folders.
    if (e.status !== 'completed' && (await this.stillInside(path))) await removePartial(path)
    this.jobs.forget(id)
    this.store.delete(path)
    await this.store.flush()
  }

  async clearCompleted(): Promise<number> {
    let n = 0
    for (const [p, e] of [...this.store.entries()]) {
      if (!this.owns(p) || e.status !== 'completed') continue
      this.store.delete(p)
      this.jobs.forget(e.id)
      n++
    }
    await this.store.flush()
    return n
  }

  async listModels(): Promise<ModelFile[]> {
    return (await walkModels(this.modelsDir)).models
  }

  models(): LocalModels {
    return new LocalModels(this.config.comfyui, this.config.workspace)
  }

  async test(): Promise<ConnectionTestResult> {
    const problem = await setupProblem(this.config, this.modelsDir)
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

  private resumeStale(paths: string[]): void {
    if (!this.deps.settings().autoResume) return
    for (const p of paths) {
      const e = this.store.get(p)
      if (!e || !this.owns(p) || e.status !== 'paused') continue
      // Anything on this machine can write the status file: an entry PodPull
      // did not start waits for the user, it never gets a token by itself.
      if (!this.ownJobs.has(e.id, p)) continue
      this.jobs.requeue(e.id, false).catch(() => undefined) // another process took it: fine
    }
  }

  private onStale(paths: string[]): void {
    if (this.opened) this.resumeStale(paths)
    else this.staleSeen.push(...paths)
  }

  // ── helpers ─────────────────────────────────────────────────────────────

  /** The status file as it is now, before acting on a job. */
  private async readFresh(): Promise<void> {
    // Always read the file: another process may have moved the job on since our
    // last view (a worker that just claimed it), and a stale view would settle
    // it here instead of asking the process that runs it.
    await this.store.refresh()
  }

  private entry(id: string): [string, StatusEntry] {
    const found = this.store.findById(id)
    if (!found || !this.owns(found[0]))
      throw new UserError('not-found', 'That download is no longer listed.')
    return found
  }

  /** Whether a status-file key is one of this install's: a plain absolute path
   *  (no `..` walking out of models/) under models/ or an extra root, through
   *  no symlinked folder that leads elsewhere. */
  private owns(path: string): boolean {
    if (!isAbsolute(path) || normalize(path) !== path) return false
    const inModels = path.startsWith(this.realModels + sep) || path.startsWith(this.modelsDir + sep)
    if (!inModels && !this.places.ownsExtra(path)) return false
    return this.places.realDirInside(path, this.realModels)
  }

  /** The async, authoritative check before anything is deleted at a stored path. */
  private stillInside(path: string): Promise<boolean> {
    return this.places.checkStored(path).then(
      () => true,
      () => false
    )
  }

  /** This target's entries (the workspace's status file may list other installs' too). */
  private *ownEntries(): Generator<[string, StatusEntry]> {
    for (const [p, e] of this.store.entries()) if (this.owns(p)) yield [p, e]
  }

  /** The status file was written: a write failure shown before is over. */
  private statusWritten(): void {
    if (!this.message?.startsWith(STATUS_WRITE_FAILED)) return
    this.message = null // written again: whatever blocked it is gone
    this.emit('info', this.info())
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
