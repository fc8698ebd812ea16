// A pod reached over SSH. The pod's helper does the downloading (detached, so
// it goes on when the app is closed). This class maps the Target interface
// onto helper commands; podSession.ts keeps the SSH connection, the helper
// and its `watch` stream, and podRecords.ts mirrors the pod's status file into
// records. Cached records show at once on start-up, marked with the last time
// the pod was seen.
import { redirectsToSignedLink } from '../../sources/endpoints'
import { EventEmitter } from 'node:events'
import { hostname } from 'node:os'
import { posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import type {
  ConnectionTestResult,
  DownloadRecord,
  HashingProgress,
  ModelFile,
  Settings,
  SshTargetConfig,
  StartResult,
  TargetInfo
} from '../../../shared/types'
import type { HelperClient } from '../../ssh/helperClient'
import type { HelperFile } from '../../ssh/helperUpload'
import type { KnownHosts } from '../../ssh/hostKeyTrust'
import type { SshConnectionOptions } from '../../ssh/sshConnection'
import { tokensFor } from '../../sources/tokens'
import { memoryOwnJobs, type OwnJobs } from '../ownJobs'
import { UserError } from '../../errors'
import type { Target, TargetEvents, TargetPushRequest, TargetStartRequest } from '../target'
import { PushJob, type PushTuning } from './podPush'
import { PodModels } from './podModels'
import { PodRecords, type PodCacheInfo } from './podRecords'
import { asUserError, PodSession } from './podSession'
import { BandwidthControl, configWithLimits, inForce, sameLimits } from '../bandwidthControl'
import { limitsFileBody, limitsFromFile } from '../limitsFile'
import { UNLIMITED, type BandwidthLimits } from '../../../shared/bandwidth'
export type { PodCacheInfo } from './podRecords'

type Tokens = { hf?: string; civitai?: string }

/** The pod's limits file is written again when older than this (its windows reach a week ahead). */
const LIMITS_REFRESH_MS = 24 * 3600_000

/** Where the pod's downloads may live: its models folder and extra_model_paths roots. */
type PlaceFields = { models_dir: string; roots: { folder: string; dir: string }[] }

export interface PodTargetDeps {
  settings: () => Settings
  tokens: () => Tokens
  tokenHosts: () => { hf: string[]; civitai: string[] }
  knownHosts: KnownHosts
  secret: () => string | undefined
  /** A fingerprint the user confirmed on first contact. */
  acceptHostKey?: string
  cache: {
    load: () => DownloadRecord[] | undefined
    save: (records: DownloadRecord[], info: PodCacheInfo) => void
    /** Epoch ms the pod was last seen (from the snapshot cache). */
    lastSeen?: () => number | null
    /** What the last probe found, shown while the pod is unreachable. */
    info?: () => Partial<PodCacheInfo> | undefined
  }
  /** The downloads this PodPull started here or its user resumed (default: this run's only). */
  ownJobs?: OwnJobs
  /** Tests: connection tuning (backoff, keepalive) and a helper file of their own. */
  connection?: Partial<SshConnectionOptions>
  helper?: HelperFile
  /** Tests and the bench: the upload's byte path (chunk sizes, a gate, a byte count). */
  push?: PushTuning
  /** The target's saved limits, which any PodPull process of this computer may
   *  have set since this one read them (a CLI, while the pod was away). */
  savedLimits?: {
    load(): SavedLimits | undefined
    save(saved: SavedLimits): void
  }
}

/** Bandwidth limits and when they were set (epoch ms). */
export interface SavedLimits {
  limits: BandwidthLimits
  setAt: number
}

interface StartAnswer {
  id: string
  outcome: StartResult['outcome']
  path: string
  linked_from?: string
  linked_by?: 'hardlink' | 'copy'
}

/** The helper's answer to `resume`: the job now at the entry's path (another
 *  one's id when that job already runs there). */
interface ResumeAnswer {
  id: string
  path: string
}

export interface PodTargetDef {
  id: string
  name: string
  config: SshTargetConfig
}

export class PodTarget extends EventEmitter<TargetEvents> implements Target {
  readonly id: string
  private readonly workspace: string
  private readonly session: PodSession
  private readonly records: PodRecords
  private readonly ownJobs: OwnJobs
  /** Uploads this process is sending now, by id. */
  private readonly pushes = new Map<string, PushJob>()
  /** The pod's background hasher, as its watch stream reports it. */
  private hashing: HashingProgress | null = null
  /** The cap in force, for the header and the card; the helper enforces it. */
  private readonly bandwidth: BandwidthControl
  /** When the limits this target holds were set (epoch ms; 0: never). */
  private limitsSetAt: number
  /** The last write of the limits to the pod (see pushLimits). */
  private limitsWrite: Promise<void> = Promise.resolve()
  /** Finished downloads already handed to the hasher (each once). */
  private readonly indexedIds = new Set<string>()
  /** The model folders last known: the helper lists only the status entries
   *  inside them (anything on the pod can plant one at /etc/x). None known
   *  yet: the file as it is — such an entry still gets no token and deletes
   *  nothing. */
  private listing: PlaceFields | Record<string, never> = {}

  constructor(
    private readonly def: PodTargetDef,
    private readonly deps: PodTargetDeps
  ) {
    super()
    this.id = def.id
    this.workspace = def.config.workspace
    this.ownJobs = deps.ownJobs ?? memoryOwnJobs()
    this.limitsSetAt = def.config.bandwidthSetAt ?? 0
    this.bandwidth = new BandwidthControl(def.config.bandwidth, {
      onCap: () => this.emit('info', this.info())
    })
    this.session = this.newSession()
    this.records = this.newRecords()
  }

  /** The SSH side, starting from what the cache last knew of the pod. */
  private newSession(): PodSession {
    const { def, deps } = this
    const cached = deps.cache.info?.()
    const hooks = {
      changed: () => this.emit('info', this.info()),
      status: (status: Record<string, unknown>) => this.records.watched(status),
      hashing: (p: HashingProgress | null) => {
        this.hashing = p
        this.emit('info', this.info())
      },
      listing: () => this.placeFields().catch(() => this.listing),
      limits: (file: Record<string, unknown> | null) => this.podLimits(file),
      online: () => {
        if (deps.settings().backgroundHashing)
          this.models()
            .startHashing()
            .catch(() => undefined) // only a cache: the next connection tries again
      }
    }
    return new PodSession(def, deps, hooks, {
      comfyui: def.config.comfyui ?? cached?.comfyui ?? null,
      freeBytes: cached?.freeBytes ?? null,
      lastSeen: deps.cache.lastSeen?.() ?? null
    })
  }

  /** The mirrored records, starting from the cached ones. */
  private newRecords(): PodRecords {
    const { deps, session } = this
    return new PodRecords(this.id, deps.cache.load() ?? [], {
      changed: (upserts, removed) => {
        this.emit('downloads', { targetId: this.id, upserts, removed })
        this.hashNewFiles(upserts)
      },
      save: (records, info) => deps.cache.save(records, info),
      cacheInfo: () => ({
        freeBytes: session.freeBytes,
        comfyui: session.comfyui,
        lastSeen: session.lastSeen
      }),
      autoResume: () => deps.settings().autoResume,
      owned: (id, path) => this.ownJobs.has(id, path),
      resume: (id) => this.sendResume(id).then(() => undefined),
      resumeFailed: (err) =>
        session.setInfo(session.state, `Could not resume a download: ${asUserError(err).message}`),
      noticeChanged: () => this.emit('info', this.info())
    })
  }

  /** A download finished without a sha256 to check: the background hasher indexes it. */
  private hashNewFiles(upserts: DownloadRecord[]): void {
    const fresh = upserts.filter(
      (r) => r.state === 'completed' && !r.sha256 && !this.indexedIds.has(r.id)
    )
    fresh.forEach((r) => this.indexedIds.add(r.id))
    if (!fresh.length || !this.deps.settings().backgroundHashing) return
    if (this.session.state !== 'online') return // the next connection's run picks it up
    this.models()
      .startHashing()
      .catch(() => undefined)
  }

  info(): TargetInfo {
    const s = this.session
    return {
      id: this.id,
      name: this.def.name,
      config: configWithLimits(this.def.config, this.bandwidth),
      connection: s.state,
      lastSeen: s.lastSeen,
      freeBytes: s.freeBytes,
      comfyui: s.comfyui,
      message: s.message,
      hostKeyChange: s.hostKeyChange(),
      hashing: this.hashing,
      bandwidth: inForce(this.bandwidth),
      ...(this.records.notice ? { notice: this.records.notice } : {})
    }
  }

  /** Saved here at once (with the time, so they win over an older file on
   *  the pod at the next connection, whichever process connects); the
   *  helper's workers take them up within a second (now, or then). */
  async setBandwidth(limits: BandwidthLimits): Promise<void> {
    this.holdLimits({ limits, setAt: Date.now() })
    this.deps.savedLimits?.save({ limits, setAt: this.limitsSetAt })
    if (this.session.helper) await this.pushLimits()
  }

  private holdLimits({ limits, setAt }: SavedLimits): void {
    this.def.config.bandwidth = limits
    this.def.config.bandwidthSetAt = setAt
    this.limitsSetAt = setAt
    this.bandwidth.set(limits)
  }

  /**
   * The pod's limits file, as the watch reports it at each connection and on
   * each change. The newest limits win: ones set since by another process (a
   * CLI, another machine) are taken up, so the card shows what the helper
   * enforces; ones set here later — or saved by another process of this
   * computer, e.g. while the pod was away — are written there. The same
   * limits are written again once a day: the helper's absolute windows reach
   * only a week ahead.
   */
  private podLimits(file: Record<string, unknown> | null): void {
    const saved = this.deps.savedLimits?.load()
    if (saved && saved.setAt > this.limitsSetAt) this.holdLimits(saved)
    const onPod = file === null ? null : (limitsFromFile(file) ?? null)
    const written = typeof file?.updated === 'number' ? file.updated * 1000 : 0
    const ours = this.def.config.bandwidth ?? null
    if (onPod && !sameLimits(onPod, ours) && written > this.limitsSetAt) {
      this.holdLimits({ limits: onPod, setAt: written })
      // Saved too, so a restart while the pod is away shows what it enforces.
      this.deps.savedLimits?.save({ limits: onPod, setAt: written })
      return
    }
    const stale = !sameLimits(onPod, ours) || Date.now() - written > LIMITS_REFRESH_MS
    if (ours && stale) this.pushLimits().catch(() => undefined)
  }

  /** One write at a time, each of the limits held when it starts: two in
   *  flight at once (a connection's catch-up and a user's change) could land
   *  in either order and leave the older ones on the pod. */
  private pushLimits(): Promise<void> {
    const send = async (): Promise<void> => {
      const helper = await this.ready()
      await helper.call('set-limits', {
        workspace: this.workspace,
        limits: limitsFileBody(this.def.config.bandwidth ?? UNLIMITED, Date.now())
      })
    }
    const next = this.limitsWrite.then(send)
    this.limitsWrite = next.catch(() => undefined)
    return next
  }

  downloads(): DownloadRecord[] {
    return this.records.list()
  }

  /**
   * Connects, puts the helper in place, probes and starts watching. Rejects
   * when the user must act (host key, login, no python, unwritable workspace)
   * or when a pod never seen before cannot be reached; a known pod that is
   * merely down resolves and keeps reconnecting in the background.
   */
  async open(): Promise<void> {
    this.records.announce()
    this.bandwidth.start()
    await this.session.open()
  }

  async close(): Promise<void> {
    this.bandwidth.stop()
    this.session.close()
    this.records.flush()
    this.session.setInfo('offline', this.session.message)
  }

  async start(req: TargetStartRequest): Promise<StartResult> {
    const helper = await this.ready()
    const modelsDir = await this.modelsDir()
    const models = this.models()
    const ans = await helper.call<StartAnswer>('start', {
      workspace: this.workspace,
      models_dir: modelsDir,
      url: req.url,
      folder: req.folder,
      ...(req.filename ? { filename: req.filename } : {}),
      ...(req.sha256 ? { sha256: req.sha256 } : {}),
      connections: req.connections ?? this.deps.settings().connections,
      ...(req.overwrite ? { overwrite: true } : {}),
      // A mirror (HF_ENDPOINT) the helper can't recognise as a hub by itself.
      ...(redirectsToSignedLink(req.url) ? { signed_redirect: true } : {}),
      ...(await models.startFields(req.folder)),
      // Where a file with the same content may be linked from.
      ...(req.sha256 ? await models.resumeFields() : {}),
      ...this.credentials(req.url)
    })
    if (ans.outcome === 'started' || ans.outcome === 'linked') this.ownJobs.add(ans.id, ans.path)
    await this.refresh()
    return {
      id: ans.id,
      outcome: ans.outcome,
      path: ans.path,
      ...(ans.linked_from ? { linkedFrom: ans.linked_from } : {}),
      ...(ans.linked_by ? { linkedBy: ans.linked_by } : {})
    }
  }

  async pause(id: string): Promise<void> {
    await this.helperCommand('pause', id)
  }
  /** The user resumes a download: from now on it is one of this PodPull's. */
  async resume(id: string, url?: string): Promise<void> {
    const taken = await this.sendResume(id, url)
    // Only once the helper took it: a refused entry (one planted outside the
    // model folders) must not become ours, or the next snapshot that still
    // shows it interrupted would resume it by itself. The job and path are the
    // helper's answer, not the records: a status read that fails right after
    // (a dropped link) must not leave a job the user resumed as not ours.
    if (taken) this.ownJobs.add(taken.id, taken.path)
  }

  /** The job the helper now runs at the entry's path; null for an upload
   *  (its push makes it ours). */
  private async sendResume(id: string, url?: string): Promise<ResumeAnswer | null> {
    // A command-line resume may come before the first status snapshot.
    if (!this.records.get(id)) await this.refresh()
    const upload = this.records.get(id)
    if (upload?.kind === 'upload') {
      await this.resumePush(upload)
      return null
    }
    const helper = await this.ready()
    // models_dir: the helper re-checks that the entry's path still leads inside it.
    const fresh = url === undefined ? {} : { url }
    const { models_dir: modelsDir, ...extra } = await this.placeFields()
    const rec = this.records.get(id)
    // A path that is not plainly inside the model folders gets no token: the
    // helper refuses it (and marks the entry) without one.
    const inside = !!rec && plainlyInside(rec.path, [modelsDir, ...extra.roots.map((r) => r.dir)])
    const creds = this.credentials(inside ? (url ?? rec.url) : undefined)
    const ans = await helper.call<ResumeAnswer>('resume', {
      workspace: this.workspace,
      id,
      models_dir: modelsDir,
      ...extra,
      ...fresh,
      ...creds,
      // The stored URL is shown without secrets but keeps its host and path.
      ...(rec && redirectsToSignedLink(url ?? rec.url) ? { signed_redirect: true } : {})
    })
    await this.refresh()
    return ans
  }
  async cancel(id: string): Promise<void> {
    // The helper deletes a cancelled job's partial files only where its stored
    // path still leads inside these folders.
    const places = await this.placeFields().catch(() => ({}))
    await this.helperCommand('cancel', id, places)
  }

  /** Pushes a file of this computer; see podPush.ts. */
  async push(req: TargetPushRequest): Promise<StartResult> {
    const helper = await this.ready()
    const transport = this.session.podTransport
    if (!transport) throw new UserError('offline', `The pod "${this.def.name}" is not connected.`)
    const placement = {
      models_dir: await this.modelsDir(),
      ...(await this.models().startFields(req.folder))
    }
    const ctx = { helper, transport, workspace: this.workspace, placement, tuning: this.deps.push }
    const job = await PushJob.start(ctx, req)
    if (!(job instanceof PushJob)) return job
    const { id, path } = job.begin
    this.ownJobs.add(id, path)
    this.pushes.set(id, job)
    void job.done
      .catch((err: unknown) => this.pushFailed(id, job, err))
      .finally(() => {
        if (this.pushes.get(id) === job) this.pushes.delete(id)
        void this.refresh()
      })
    await this.refresh()
    return { id, outcome: 'started', path }
  }

  /** The last push job of this process (tests and the bench read its byte count). */
  pushJob(id: string): PushJob | undefined {
    return this.pushes.get(id)
  }

  /** Continues an upload from what the pod's .part holds, with the same local file. */
  private async resumePush(rec: DownloadRecord): Promise<void> {
    const running = this.pushes.get(rec.id)
    if (running && !running.stopping) return
    // One that is winding down (its link dropped) ends first: never two senders.
    await running?.done.catch(() => undefined)
    if (rec.sourceHost && rec.sourceHost !== hostname())
      throw new UserError(
        'bad-request',
        `This upload is sent from ${rec.sourceHost}; continue it there (podpull push or resume).`
      )
    const file = rec.url.startsWith('file:') ? fileURLToPath(rec.url) : null
    if (!file) throw new UserError('bad-request', 'This upload does not name its local file.')
    await this.push({ file, folder: rec.folder, filename: rec.filename })
  }

  /** A push that stopped here: a lost link or a pause/cancel on the pod already
   *  left the entry paused (the pod's side saw it); anything else is said there. */
  private async pushFailed(id: string, job: PushJob, err: unknown): Promise<void> {
    const e = asUserError(err)
    if (job.stoppedByPod || job.settledByPod || this.session.state !== 'online') return
    if (e.code === 'offline') return
    const helper = this.session.helper
    await helper
      ?.call('push-fail', { workspace: this.workspace, id, error: e.message })
      .catch(() => undefined)
  }
  private async placeFields(): Promise<PlaceFields> {
    const models_dir = await this.modelsDir()
    this.listing = { models_dir, ...(await this.models().resumeFields()) }
    return this.listing
  }

  async retry(id: string): Promise<void> {
    await this.resume(id)
  }
  async remove(id: string): Promise<void> {
    await this.helperCommand('remove', id)
  }

  async clearCompleted(): Promise<number> {
    const helper = await this.ready()
    const ans = await helper.call<{ removed?: number }>('clear-completed', {
      workspace: this.workspace
    })
    await this.refresh()
    return ans.removed ?? 0
  }

  async listModels(): Promise<ModelFile[]> {
    const helper = await this.ready()
    const ans = await helper.call<{ models?: ModelFile[] }>('models', {
      workspace: this.workspace,
      models_dir: await this.modelsDir()
    })
    return ans.models ?? []
  }

  models(): PodModels {
    return new PodModels({
      helper: () => this.ready(),
      modelsDir: () => this.modelsDir(),
      workspace: this.workspace
    })
  }

  async rawStatus(): Promise<Record<string, unknown>> {
    const helper = await this.ready()
    const ans = await helper.call<{ status?: Record<string, unknown> }>('status', {
      workspace: this.workspace
    })
    return ans.status ?? {}
  }

  async helperLogTail(): Promise<{ id: string; tail: string }[]> {
    const helper = await this.ready()
    const ans = await helper.call<{ logs?: { id: string; tail: string }[] }>('log-tail', {
      workspace: this.workspace
    })
    return ans.logs ?? []
  }

  /** Runs a fixed command on the pod, its input on stdin (a RunPod fill pod's watchdog). */
  runOnPod(command: string, stdin: string): Promise<void> {
    return this.session.run(command, stdin)
  }

  /** Tries the pod without trusting anything new: a confirmed key is checked, not stored. */
  test(): Promise<ConnectionTestResult> {
    return this.session.test()
  }

  /** Fetches the status at once after an action, not waiting for the watch tick. */
  private async refresh(): Promise<void> {
    const helper = this.session.helper
    if (!helper) return
    const ans = await helper
      .call<{ status?: Record<string, unknown> }>('status', {
        workspace: this.workspace,
        ...this.listing
      })
      .catch(() => null)
    if (ans?.status) this.records.apply(ans.status)
  }

  // ── helpers ───────────────────────────────────────────────────────────

  private async helperCommand(
    command: 'pause' | 'cancel' | 'remove',
    id: string,
    more: Record<string, unknown> = {}
  ): Promise<void> {
    const helper = await this.ready()
    await helper.call(command, { workspace: this.workspace, id, ...more })
    await this.refresh()
  }

  private ready(): Promise<HelperClient> {
    return this.session.ready()
  }

  private async modelsDir(): Promise<string> {
    const comfyui = this.session.comfyui
    if (!comfyui) {
      throw new UserError(
        'no-comfyui',
        `No ComfyUI folder was found on "${this.def.name}"; set its ComfyUI folder in the target's settings.`
      )
    }
    return posix.join(comfyui, 'models')
  }

  /** Tokens go to the helper on stdin only, with the hosts they belong to:
   *  only the one token this URL's host needs (over https, or to a host the
   *  user listed), or none — a pod never holds a token it doesn't use. */
  private credentials(url: string | undefined): {
    tokens: Tokens
    token_hosts: { hf: string[]; civitai: string[] }
  } {
    const token_hosts = this.deps.tokenHosts()
    return { tokens: tokensFor(url, this.deps.tokens(), token_hosts), token_hosts }
  }
}

/** Whether a pod path is absolute, has no `.`/`..` or doubled slashes, and lies
 *  under one of `roots` (symlinks are the helper's to check, with realpath). */
export function plainlyInside(path: string, roots: string[]): boolean {
  if (!posix.isAbsolute(path) || posix.normalize(path) !== path) return false
  return roots.some((r) => path.startsWith(r.endsWith('/') ? r : `${r}/`))
}
