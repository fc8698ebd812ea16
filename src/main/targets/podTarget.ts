// A pod reached over SSH. The pod's helper does the downloading (detached, so
// it goes on when the app is closed); this class keeps one SSH connection,
// mirrors the pod's status file through the helper's `watch` stream, and maps
// the Target interface onto helper commands. Cached records show at once on
// start-up, marked with the last time the pod was seen.
import { EventEmitter } from 'node:events'
import { posix } from 'node:path'
import type {
  ConnectionState,
  ConnectionTestResult,
  DownloadRecord,
  ModelFile,
  Settings,
  SshTargetConfig,
  StartResult,
  TargetInfo
} from '../../shared/types'
import { HelperClient, type WatchMessage } from '../ssh/helperClient'
import { loadHelper, type HelperFile } from '../ssh/helperUpload'
import { HostKeyError, hostPortKey, type KnownHosts } from '../ssh/hostKeyTrust'
import { checkWorkspace } from '../ssh/remotePath'
import { SshConnection, type SshConnectionOptions, type SshState } from '../ssh/sshConnection'
import { isFatalSshError } from '../ssh/sshErrors'
import { tokensFor } from '../sources/tokens'
import { openTransport, type PodTransport, type TransportKind } from '../ssh/transport'
import { entryToRecord, parseEntry } from '../status/statusEntry'
import { UserError, type Target, type TargetEvents, type TargetStartRequest } from './target'
import { PodModels } from './podModels'

type Tokens = { hf?: string; civitai?: string }

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
  /** Tests: connection tuning (backoff, keepalive) and a helper file of their own. */
  connection?: Partial<SshConnectionOptions>
  helper?: HelperFile
}

export interface PodCacheInfo {
  freeBytes: number | null
  comfyui: string | null
  /** When the pod was really last reached (saving the cache is not seeing the pod). */
  lastSeen: number | null
}

export interface PodTargetDef {
  id: string
  name: string
  config: SshTargetConfig
}

const CACHE_SAVE_MS = 2000
const WATCH_RETRY_MS = 2000

interface ProbeAnswer {
  python?: string
  writable?: boolean
  free_bytes?: number | null
  comfyui?: string | null
}

export class PodTarget extends EventEmitter<TargetEvents> implements Target {
  readonly id: string
  private readonly records = new Map<string, DownloadRecord>()
  /** Interrupted jobs (worker gone: pod restart, kill) being resumed right now,
   *  so the next status line does not resume them twice. */
  private readonly resuming = new Set<string>()
  private readonly workspace: string
  private conn: SshConnection | null = null
  private helper: HelperClient | null = null
  /** Exec + SFTP, or one terminal (PTY-only proxies); detected once per target. */
  private transport: PodTransport | null = null
  private transportKind: TransportKind | undefined
  private watchStream: { close(): void } | null = null
  private session = 0
  private closed = false
  private state: ConnectionState = 'connecting'
  private lastSeen: number | null
  private freeBytes: number | null = null
  private comfyui: string | null
  private message: string | null = null
  private saveTimer: NodeJS.Timeout | null = null

  constructor(
    private readonly def: PodTargetDef,
    private readonly deps: PodTargetDeps
  ) {
    super()
    this.id = def.id
    this.workspace = def.config.workspace
    const cached = deps.cache.info?.()
    this.comfyui = def.config.comfyui ?? cached?.comfyui ?? null
    this.freeBytes = cached?.freeBytes ?? null
    this.lastSeen = deps.cache.lastSeen?.() ?? null
    for (const r of deps.cache.load() ?? []) {
      this.records.set(r.id, { ...r, targetId: def.id })
    }
  }

  info(): TargetInfo {
    return {
      id: this.id,
      name: this.def.name,
      config: this.def.config,
      connection: this.state,
      lastSeen: this.lastSeen,
      freeBytes: this.freeBytes,
      comfyui: this.comfyui,
      message: this.message,
      hostKeyChange: this.hostKeyChange()
    }
  }

  /** Pinned and presented fingerprints while the pod's key differs from its pin. */
  private hostKeyChange(): TargetInfo['hostKeyChange'] {
    const err = this.conn?.error
    if (!(err instanceof HostKeyError) || err.code !== 'host-key-changed') return null
    const pinned = this.deps.knownHosts.get(this.conn!.where)
    return pinned && pinned !== err.fingerprint ? { pinned, presented: err.fingerprint } : null
  }

  downloads(): DownloadRecord[] {
    return [...this.records.values()]
  }

  /**
   * Connects, puts the helper in place, probes and starts watching. Rejects
   * when the user must act (host key, login, no python, unwritable workspace)
   * or when a pod never seen before cannot be reached; a known pod that is
   * merely down resolves and keeps reconnecting in the background.
   */
  async open(): Promise<void> {
    this.closed = false
    if (this.records.size) this.emitDownloads([...this.records.values()], [])
    const ws = checkWorkspace(this.workspace)
    if (!this.conn) {
      this.conn = this.connection(this.deps.knownHosts, this.deps.acceptHostKey)
      this.conn.on('state', (s, err) => this.onState(s, err))
    }
    const conn = this.conn
    try {
      await conn.connect()
    } catch (err) {
      const e = asUserError(err)
      const known = this.deps.knownHosts.get(conn.trustKey) !== undefined
      if (isFatalSshError(e) || !known) {
        this.setInfo('error', e.message)
        throw e
      }
      conn.keepReconnecting()
      return
    }
    try {
      await this.ensureSession(ws)
    } catch (err) {
      this.setInfo('error', asUserError(err).message)
      throw err
    }
    conn.keepReconnecting()
  }

  async close(): Promise<void> {
    this.closed = true
    this.session++
    this.watchStream?.close()
    this.watchStream = null
    this.conn?.removeAllListeners('state')
    this.transport?.close()
    this.transport = null
    this.conn?.close()
    this.conn = null
    this.helper = null
    this.flushCache()
    this.setInfo('offline', this.message)
  }

  async start(req: TargetStartRequest): Promise<StartResult> {
    const helper = await this.ready()
    const modelsDir = await this.modelsDir()
    const ans = await helper.call<{ id: string; outcome: StartResult['outcome']; path: string }>(
      'start',
      {
        workspace: this.workspace,
        models_dir: modelsDir,
        url: req.url,
        folder: req.folder,
        ...(req.filename ? { filename: req.filename } : {}),
        ...(req.sha256 ? { sha256: req.sha256 } : {}),
        connections: req.connections ?? this.deps.settings().connections,
        ...(req.overwrite ? { overwrite: true } : {}),
        ...(await this.models().startFields(req.folder)),
        ...this.credentials(req.url)
      }
    )
    await this.refresh()
    return { id: ans.id, outcome: ans.outcome, path: ans.path }
  }

  async pause(id: string): Promise<void> {
    await this.simple('pause', id)
  }
  async resume(id: string, url?: string): Promise<void> {
    const helper = await this.ready()
    // models_dir: the helper re-checks that the entry's path still leads inside it.
    const fresh = url === undefined ? {} : { url }
    const models = { models_dir: await this.modelsDir() }
    await helper.call('resume', {
      workspace: this.workspace,
      id,
      ...models,
      ...(await this.models().resumeFields()),
      ...fresh,
      ...this.credentials(url ?? this.records.get(id)?.url)
    })
    await this.refresh()
  }
  async cancel(id: string): Promise<void> {
    await this.simple('cancel', id)
  }
  async retry(id: string): Promise<void> {
    await this.resume(id)
  }
  async remove(id: string): Promise<void> {
    await this.simple('remove', id)
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
    return new PodModels({ helper: () => this.ready(), modelsDir: () => this.modelsDir() })
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

  /** Tries the pod without trusting anything new: a confirmed key is checked, not stored. */
  async test(): Promise<ConnectionTestResult> {
    const where = hostPortKey(this.def.config.host, this.def.config.port)
    const readOnlyHosts: KnownHosts = { get: (k) => this.deps.knownHosts.get(k), set: () => {} }
    const conn =
      this.conn?.connectionState === 'online'
        ? this.conn
        : this.connection(readOnlyHosts, this.deps.acceptHostKey)
    let transport: PodTransport | null = null
    try {
      await conn.connect()
      const ws = checkWorkspace(this.workspace)
      transport = await this.transportFor(conn)
      const helper = await this.installHelper(transport, ws)
      const probe = await this.probe(helper, ws)
      const comfy = this.def.config.comfyui ?? probe.comfyui ?? null
      return {
        ok: true,
        message:
          `Connected to ${where}` +
          (comfy ? `; ComfyUI at ${comfy}.` : `; no ComfyUI found under ${ws}.`),
        fingerprint: conn.hostFingerprint ?? undefined,
        comfyui: comfy,
        freeBytes: probe.free_bytes ?? null
      }
    } catch (err) {
      const e = asUserError(err)
      return {
        ok: false,
        message: e.message,
        ...(e instanceof HostKeyError ? { fingerprint: e.fingerprint } : {}),
        ...(e.code === 'host-key-unknown' ? { needsHostKeyConfirmation: true } : {})
      }
    } finally {
      if (conn !== this.conn) {
        transport?.close()
        conn.close()
      }
    }
  }

  // ── connection and session ────────────────────────────────────────────

  private connection(knownHosts: KnownHosts, accept: string | undefined): SshConnection {
    const c = this.def.config
    return new SshConnection({
      host: c.host,
      port: c.port,
      user: c.user,
      keyPath: c.keyPath,
      secret: this.deps.secret,
      knownHosts,
      acceptHostKey: () => accept,
      ...this.deps.connection
    })
  }

  private onState(s: SshState, err: Error | null): void {
    if (this.closed) return
    if (s === 'online') {
      this.lastSeen = Date.now()
      this.setInfo('online', null)
      // Every (re)connection needs the helper checked and the watch re-subscribed.
      if (this.helper === null) this.restartSession()
      return
    }
    if (s === 'offline') {
      this.helper = null
      this.watchStream = null
      const fatal = err instanceof UserError && isFatalSshError(err)
      this.setInfo(fatal ? 'error' : 'offline', err?.message ?? null)
      return
    }
    this.setInfo('connecting', this.message)
  }

  private restartSession(): void {
    this.ensureSession(checkWorkspace(this.workspace)).catch((err: unknown) => {
      if (!this.closed) this.setInfo('error', asUserError(err).message)
    })
  }

  /** One session start at a time: open() and the 'online' event share it. */
  private ensureSession(ws: string): Promise<void> {
    this.starting ??= this.startSession(ws).finally(() => (this.starting = null))
    return this.starting
  }
  private starting: Promise<void> | null = null

  /** Helper in place, probe, watch, then resume what died while we were away. */
  private async startSession(ws: string): Promise<void> {
    const conn = this.conn
    if (!conn) throw new UserError('offline', `${this.def.name} is closed.`)
    const session = ++this.session
    this.transport ??= await this.transportFor(conn)
    const helper = await this.installHelper(this.transport, ws)
    const probe = await this.probe(helper, ws)
    if (session !== this.session) return
    this.freeBytes = probe.free_bytes ?? null
    this.comfyui = this.def.config.comfyui ?? probe.comfyui ?? null
    this.helper = helper
    this.lastSeen = Date.now()
    this.setInfo('online', null)
    this.watchStream?.close()
    await this.subscribe(helper, session)
  }

  private async installHelper(transport: PodTransport, ws: string): Promise<HelperClient> {
    const file = this.deps.helper ?? loadHelper()
    const { remotePath } = await transport.ensureHelper(ws, file)
    return new HelperClient(transport, remotePath)
  }

  private async transportFor(conn: SshConnection): Promise<PodTransport> {
    const t = await openTransport(conn, {
      kind: this.transportKind,
      spare: () => this.connection(this.deps.knownHosts, this.deps.acceptHostKey)
    })
    this.transportKind = t.kind
    return t
  }

  private async probe(helper: HelperClient, ws: string): Promise<ProbeAnswer> {
    const probe = await helper.call<ProbeAnswer>('probe', {
      workspace: ws,
      ...(this.def.config.comfyui ? { comfyui: this.def.config.comfyui } : {})
    })
    if (probe.writable === false)
      throw new UserError('unwritable', `The workspace ${ws} is not writable on the pod.`)
    return probe
  }

  private async subscribe(helper: HelperClient, session: number): Promise<void> {
    let first = true
    const firstStatus = new Promise<void>((resolve) => {
      const onMessage = (m: WatchMessage): void => {
        if (session !== this.session) return
        this.lastSeen = Date.now()
        if (m.type !== 'status' || !m.status) return
        this.applyStatus(m.status)
        const interrupted = this.interrupted(m.status)
        if (interrupted.length && this.deps.settings().autoResume) void this.autoResume(interrupted)
        if (first) {
          first = false
          resolve()
        }
      }
      helper
        .watch({ workspace: this.workspace }, onMessage)
        .then((stream) => {
          this.watchStream = stream
          void stream.done.then(() => {
            if (stream.error) this.setInfo(this.state, stream.error.message)
            this.watchEnded(session)
          })
        })
        .catch(() => resolve())
    })
    // Don't hang open() on a helper that never answers: the stream fills in later.
    await Promise.race([firstStatus, sleep(10_000)])
  }

  private watchEnded(session: number): void {
    if (session !== this.session || this.closed) return
    // The connection dropped (a reconnect starts a new session) or the watch
    // process itself ended: subscribe again while still online.
    setTimeout(() => {
      if (
        session === this.session &&
        !this.closed &&
        this.helper &&
        this.conn?.connectionState === 'online'
      )
        void this.subscribe(this.helper, session)
    }, WATCH_RETRY_MS).unref?.()
  }

  /** Entries whose worker went away (the helper settles them `interrupted`):
   *  not paused by anyone, so they are resumed — with the tokens, which only
   *  this app has. A user's pause (here or from the CLI) is never interrupted. */
  private interrupted(status: Record<string, unknown>): string[] {
    const ids: string[] = []
    for (const [path, raw] of Object.entries(status)) {
      const e = parseEntry(path, raw)
      if (!e || !e.interrupted || !e.resumable || this.resuming.has(e.id)) continue
      if (e.status === 'paused' || e.status === 'error') ids.push(e.id)
    }
    return ids
  }

  private async autoResume(ids: string[]): Promise<void> {
    for (const id of ids) {
      this.resuming.add(id)
      try {
        await this.resume(id)
      } catch (err) {
        this.setInfo(this.state, `Could not resume a download: ${asUserError(err).message}`)
      } finally {
        this.resuming.delete(id)
      }
    }
  }

  // ── records ───────────────────────────────────────────────────────────

  private applyStatus(status: Record<string, unknown>): void {
    const upserts: DownloadRecord[] = []
    const seen = new Set<string>()
    for (const [path, raw] of Object.entries(status)) {
      const e = parseEntry(path, raw)
      if (!e) continue
      const rec = entryToRecord(this.id, path, e)
      seen.add(rec.id)
      const old = this.records.get(rec.id)
      if (!old || JSON.stringify(old) !== JSON.stringify(rec)) {
        this.records.set(rec.id, rec)
        upserts.push(rec)
      }
    }
    const removed: { id: string; rev: number }[] = []
    for (const [id, old] of this.records) {
      if (seen.has(id)) continue
      this.records.delete(id)
      removed.push({ id, rev: old.rev + 1 })
    }
    if (upserts.length || removed.length) this.emitDownloads(upserts, removed)
  }

  private emitDownloads(upserts: DownloadRecord[], removed: { id: string; rev: number }[]): void {
    this.emit('downloads', { targetId: this.id, upserts, removed })
    this.scheduleCacheSave()
  }

  private scheduleCacheSave(): void {
    if (this.saveTimer) return
    this.saveTimer = setTimeout(() => this.flushCache(), CACHE_SAVE_MS)
    this.saveTimer.unref?.()
  }

  private flushCache(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer)
    this.saveTimer = null
    this.deps.cache.save(this.downloads(), {
      freeBytes: this.freeBytes,
      comfyui: this.comfyui,
      lastSeen: this.lastSeen
    })
  }

  /** Fetches the status at once after an action, not waiting for the watch tick. */
  private async refresh(): Promise<void> {
    const helper = this.helper
    if (!helper) return
    const ans = await helper
      .call<{ status?: Record<string, unknown> }>('status', { workspace: this.workspace })
      .catch(() => null)
    if (ans?.status) this.applyStatus(ans.status)
  }

  // ── helpers ───────────────────────────────────────────────────────────

  private async simple(command: 'pause' | 'cancel' | 'remove', id: string): Promise<void> {
    const helper = await this.ready()
    await helper.call(command, { workspace: this.workspace, id })
    await this.refresh()
  }

  /** The helper client of the live session, or a clear "offline" error. */
  private async ready(): Promise<HelperClient> {
    if (this.helper) return this.helper
    const why = this.message ? `: ${this.message}` : '.'
    throw new UserError('offline', `The pod "${this.def.name}" is not connected${why}`)
  }

  private async modelsDir(): Promise<string> {
    if (!this.comfyui) {
      throw new UserError(
        'no-comfyui',
        `No ComfyUI folder was found on "${this.def.name}"; set its ComfyUI folder in the target's settings.`
      )
    }
    return posix.join(this.comfyui, 'models')
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

  private setInfo(state: ConnectionState, message: string | null): void {
    if (state === this.state && message === this.message) return
    this.state = state
    this.message = message
    this.emit('info', this.info())
  }
}

function asUserError(err: unknown): UserError {
  return err instanceof UserError ? err : new UserError('internal', String(err))
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref?.())
