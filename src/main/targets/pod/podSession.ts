// The SSH side of a pod target: one connection (once the pod has been reached
// it reconnects by itself in the background), the transport detected for it
// (exec + SFTP, or one terminal), the helper put in place and probed, and the
// helper's `watch` stream, subscribed again after every reconnect or when it
// ends. It also keeps what the pod looks like from here (connection state and
// message, last seen, free space, ComfyUI folder); status snapshots from the
// watch go to its owner, PodTarget, which mirrors them (podRecords.ts).
import type {
  ConnectionState,
  ConnectionTestResult,
  HashingProgress,
  SshTargetConfig,
  TargetInfo
} from '../../../shared/types'
import { HelperClient, type WatchMessage } from '../../ssh/helperClient'
import { loadHelper, type HelperFile } from '../../ssh/helperUpload'
import { HostKeyError, hostPortKey, type KnownHosts } from '../../ssh/hostKeyTrust'
import { checkWorkspace } from '../../ssh/remotePath'
import { SshConnection, type SshConnectionOptions, type SshState } from '../../ssh/sshConnection'
import { isFatalSshError } from '../../ssh/sshErrors'
import { openTransport, type PodTransport, type TransportKind } from '../../ssh/transport'
import { UserError } from '../../errors'

const WATCH_RETRY_MS = 2000

/** What the session needs of PodTargetDeps. */
export interface PodSessionDeps {
  knownHosts: KnownHosts
  secret: () => string | undefined
  /** A fingerprint the user confirmed on first contact. */
  acceptHostKey?: string
  /** Tests: connection tuning (backoff, keepalive) and a helper file of their own. */
  connection?: Partial<SshConnectionOptions>
  helper?: HelperFile
}

/** What the pod looked like when it was last reached (or from the cache). */
export interface PodFacts {
  lastSeen: number | null
  freeBytes: number | null
  comfyui: string | null
}

export interface PodSessionHooks {
  /** The connection state or its message changed: the target's info() is new. */
  changed(): void
  /** A status snapshot arrived on the watch stream. */
  status(status: Record<string, unknown>): void
  /** The background hasher's progress changed (null: none runs). */
  hashing?(progress: HashingProgress | null): void
  /** The pod's bandwidth limits file, at subscription and on each change (null: none). */
  limits?(file: Record<string, unknown> | null): void
  /** The helper is in place and the watch subscribed (after every (re)connection). */
  online?(helper: HelperClient): void
  /** The model folders the watch lists entries inside (models_dir, roots). */
  listing?(): Promise<Record<string, unknown>>
}

interface ProbeAnswer {
  python?: string
  writable?: boolean
  free_bytes?: number | null
  comfyui?: string | null
}

export class PodSession {
  private conn: SshConnection | null = null
  private helperClient: HelperClient | null = null
  /** Exec + SFTP, or one terminal (PTY-only proxies); detected once per target. */
  private transport: PodTransport | null = null
  private transportKind: TransportKind | undefined
  private watchStream: { close(): void } | null = null
  private session = 0
  private closed = false
  private connState: ConnectionState = 'connecting'
  private note: string | null = null
  private readonly workspace: string

  constructor(
    private readonly def: { name: string; config: SshTargetConfig },
    private readonly deps: PodSessionDeps,
    private readonly hooks: PodSessionHooks,
    private readonly facts: PodFacts
  ) {
    this.workspace = def.config.workspace
  }

  get state(): ConnectionState {
    return this.connState
  }
  get message(): string | null {
    return this.note
  }
  get lastSeen(): number | null {
    return this.facts.lastSeen
  }
  get freeBytes(): number | null {
    return this.facts.freeBytes
  }
  get comfyui(): string | null {
    return this.facts.comfyui
  }
  /** The helper client of the live session, if there is one. */
  get helper(): HelperClient | null {
    return this.helperClient
  }
  /** How the live session reaches the pod (exec + SFTP or a terminal), if it does. */
  get podTransport(): PodTransport | null {
    return this.helperClient ? this.transport : null
  }

  /** Pinned and presented fingerprints while the pod's key differs from its pin. */
  hostKeyChange(): TargetInfo['hostKeyChange'] {
    const err = this.conn?.error
    if (!(err instanceof HostKeyError) || err.code !== 'host-key-changed') return null
    const pinned = this.deps.knownHosts.get(this.conn!.where)
    return pinned && pinned !== err.fingerprint ? { pinned, presented: err.fingerprint } : null
  }

  /** See PodTarget.open(). */
  async open(): Promise<void> {
    this.closed = false
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

  /** Ends the watch, the transport and the connection; state is left to the caller. */
  close(): void {
    this.closed = true
    this.session++
    this.watchStream?.close()
    this.watchStream = null
    this.conn?.removeAllListeners('state')
    this.transport?.close()
    this.transport = null
    this.conn?.close()
    this.conn = null
    this.helperClient = null
  }

  /** The helper client of the live session, or a clear "offline" error. */
  async ready(): Promise<HelperClient> {
    if (this.helperClient) return this.helperClient
    const why = this.note ? `: ${this.note}` : '.'
    throw new UserError('offline', `The pod "${this.def.name}" is not connected${why}`)
  }

  /** Runs a fixed command with its input on stdin (never on the command line). */
  async run(command: string, stdin: string): Promise<void> {
    await this.ready()
    if (!this.transport)
      throw new UserError('offline', `The pod "${this.def.name}" is not connected.`)
    const r = await this.transport.exec(command, stdin, { what: 'a pod command' })
    if (r.code !== 0)
      throw new UserError(
        'ssh',
        `A command on "${this.def.name}" failed: ${r.stderr.trim().slice(0, 200)}`
      )
  }

  setInfo(state: ConnectionState, message: string | null): void {
    if (state === this.connState && message === this.note) return
    this.connState = state
    this.note = message
    this.hooks.changed()
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
      this.facts.lastSeen = Date.now()
      this.setInfo('online', null)
      // Every (re)connection needs the helper checked and the watch re-subscribed.
      if (this.helperClient === null) this.restartSession()
      return
    }
    if (s === 'offline') {
      this.helperClient = null
      this.watchStream = null
      const fatal = err instanceof UserError && isFatalSshError(err)
      this.setInfo(fatal ? 'error' : 'offline', err?.message ?? null)
      return
    }
    this.setInfo('connecting', this.note)
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

  /** Helper in place, probe, watch (whose first status resumes what died while we were away). */
  private async startSession(ws: string): Promise<void> {
    const conn = this.conn
    if (!conn) throw new UserError('offline', `${this.def.name} is closed.`)
    const session = ++this.session
    this.transport ??= await this.transportFor(conn)
    const helper = await this.installHelper(this.transport, ws)
    const probe = await this.probe(helper, ws)
    if (session !== this.session) return
    this.facts.freeBytes = probe.free_bytes ?? null
    this.facts.comfyui = this.def.config.comfyui ?? probe.comfyui ?? null
    this.helperClient = helper
    this.facts.lastSeen = Date.now()
    this.setInfo('online', null)
    this.watchStream?.close()
    await this.subscribe(helper, session)
    if (session === this.session) this.hooks.online?.(helper)
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

  // ── the watch stream ──────────────────────────────────────────────────

  private async subscribe(helper: HelperClient, session: number): Promise<void> {
    let first = true
    const listing = (await this.hooks.listing?.()) ?? {}
    const firstStatus = new Promise<void>((resolve) => {
      const onMessage = (m: WatchMessage): void => {
        if (session !== this.session) return
        this.facts.lastSeen = Date.now()
        if (m.type === 'hashing') return this.hooks.hashing?.(m.hashing ?? null)
        if (m.type === 'limits') return this.hooks.limits?.(m.limits ?? null)
        if (m.type !== 'status' || !m.status) return
        this.hooks.status(m.status)
        if (first) {
          first = false
          resolve()
        }
      }
      helper
        .watch({ workspace: this.workspace, ...listing }, onMessage)
        .then((stream) => {
          this.watchStream = stream
          void stream.done.then(() => {
            if (stream.error) this.setInfo(this.connState, stream.error.message)
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
        this.helperClient &&
        this.conn?.connectionState === 'online'
      )
        void this.subscribe(this.helperClient, session)
    }, WATCH_RETRY_MS).unref?.()
  }
}

export function asUserError(err: unknown): UserError {
  return err instanceof UserError ? err : new UserError('internal', String(err))
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref?.())
