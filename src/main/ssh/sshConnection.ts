// One SSH connection per pod, carrying many channels (exec with a JSON request
// on stdin, long-lived line streams, SFTP). It keeps itself alive: keepalives
// notice a dead link, and once it has been online it reconnects by itself with
// backoff (1 s doubling to 30 s), announcing every state change. What an
// attempt logs in with (address, key, agent, password) is sshLogin.ts's part.
import { EventEmitter } from 'node:events'
import type { Client, ClientChannel, ConnectConfig, PseudoTtyOptions, SFTPWrapper } from 'ssh2'
import { UserError } from '../errors'
import {
  ChannelSlots,
  collectOutput,
  DEFAULT_EXEC_TIMEOUT_MS,
  DEFAULT_MAX_CHANNELS,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_OUTPUT_BYTES,
  splitLines,
  type ExecResult
} from './channelLimits'
import { HostKeyError, hostPortKey, hostVerifierFor, type KnownHosts } from './hostKeyTrust'
import { describeSshError, isFatalSshError } from './sshErrors'
import { connectConfig, loadSsh2 } from './sshLogin'

/** Waits before asking again for a channel sshd refused (see openExec). */
const OPEN_RETRY_MS = [50, 100, 200]

export type SshState = 'connecting' | 'online' | 'offline'

export interface SshConnectionOptions {
  host: string
  port: number
  user: string
  /** Private key file; omitted → ssh-agent (SSH_AUTH_SOCK), then password. */
  keyPath?: string
  /** The key's passphrase, or the password when no key file is used. Read when connecting. */
  secret?: () => string | undefined
  knownHosts: KnownHosts
  /** A fingerprint the user confirmed for a host not yet trusted. */
  acceptHostKey?: () => string | undefined
  /** Defaults to process.env.SSH_AUTH_SOCK. */
  agent?: string
  keepaliveIntervalMs?: number
  readyTimeoutMs?: number
  backoffInitialMs?: number
  backoffMaxMs?: number
  /** Channels open at once (exec, line streams, SFTP); more wait their turn. */
  maxChannels?: number
  /** Output one exec may send before it is stopped. */
  maxOutputBytes?: number
  /** Length one streamed line may reach. */
  maxLineBytes?: number
  /** Default time limit of one exec, waiting for a channel included. */
  execTimeoutMs?: number
  /** The known-hosts key of this pod (default host:port): a RunPod pod keeps
   *  its trust when a restart moves it to a new port. */
  trustKey?: string
  /** Asked before every connection attempt (RunPod: the pod's current
   *  address from the API); null keeps the configured address. */
  resolveAddress?: () => Promise<{ host: string; port: number; user: string } | null>
  /** Why the host key may have changed (RunPod: the pod was recreated), put
   *  before the changed-key sentence; the user still confirms the new key. */
  explainHostKeyChange?: () => string | null
}

export type { ExecResult }

/** Limits of one exec: its time (waiting for a channel included) and how errors name it. */
export interface ExecOptions {
  timeoutMs?: number
  what?: string
}

export interface LineStream {
  /** Resolves when the channel closes (either side). */
  done: Promise<void>
  /** Set when we ended the stream because the pod broke a limit. */
  error: UserError | null
  close(): void
  /** More input for the command (only on a stream opened with `keepInput`). */
  send?(text: string): void
}

export interface LinesOptions {
  /** Leave the command's stdin open after the request, for `send`. */
  keepInput?: boolean
}

interface ConnectionEvents {
  state: [SshState, UserError | null]
}

export class SshConnection extends EventEmitter<ConnectionEvents> {
  readonly where: string
  private client: Client | null = null
  private state: SshState = 'offline'
  private lastError: UserError | null = null
  private fingerprint: string | null = null
  private closed = false
  private reconnecting = false
  private retryTimer: NodeJS.Timeout | null = null
  private backoffMs: number
  private connecting: Promise<void> | null = null
  private readonly slots: ChannelSlots

  constructor(private readonly opts: SshConnectionOptions) {
    super()
    this.where = hostPortKey(opts.host, opts.port)
    this.backoffMs = opts.backoffInitialMs ?? 1000
    this.slots = new ChannelSlots(opts.maxChannels ?? DEFAULT_MAX_CHANNELS)
  }

  get connectionState(): SshState {
    return this.state
  }
  get error(): UserError | null {
    return this.lastError
  }
  /** Where this pod's trusted host key is kept (see SshConnectionOptions.trustKey). */
  get trustKey(): string {
    return this.opts.trustKey ?? this.where
  }
  /** The host key fingerprint the pod last presented (trusted or not). */
  get hostFingerprint(): string | null {
    return this.fingerprint
  }

  /** One attempt; rejects with a UserError. Reuses an attempt under way. */
  connect(): Promise<void> {
    if (this.state === 'online' && this.client) return Promise.resolve()
    this.connecting ??= this.attempt().finally(() => (this.connecting = null))
    return this.connecting
  }

  /** From now on, a lost or failed connection is retried with backoff until close(). */
  keepReconnecting(): void {
    this.reconnecting = true
    if (this.state === 'offline' && !this.connecting) this.scheduleRetry()
  }

  close(): void {
    this.closed = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.client?.end()
    this.client = null
    this.setState('offline', this.lastError)
  }

  /** Runs a command to its end. Rejects (and stops the command) when it runs
   *  past its time limit or sends more than maxOutputBytes. */
  async exec(command: string, stdin?: string, o: ExecOptions = {}): Promise<ExecResult> {
    const ms = o.timeoutMs ?? this.opts.execTimeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS
    const what = o.what ?? 'a command'
    const timeout = new AbortController()
    const timedOut = new Promise<never>((_, reject) =>
      timeout.signal.addEventListener('abort', () => reject(timeout.signal.reason), { once: true })
    )
    timedOut.catch(() => undefined)
    const timer = setTimeout(() => timeout.abort(this.timeoutError(what, ms)), ms)
    const opening = this.channel(command, timeout.signal)
    // However late the channel opens, a timed-out command is stopped.
    const stop = (ch: ClientChannel): void => {
      ch.signal('KILL')
      ch.close()
    }
    opening.then(
      (ch) => {
        if (timeout.signal.aborted) stop(ch)
        else timeout.signal.addEventListener('abort', () => stop(ch), { once: true })
      },
      () => undefined
    )
    try {
      const ch = await Promise.race([opening, timedOut])
      const result = collectOutput(ch, {
        maxBytes: this.opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
        what,
        where: this.where
      })
      ch.end(stdin ?? '')
      return await Promise.race([result, timedOut])
    } finally {
      clearTimeout(timer)
    }
  }

  private timeoutError(what: string, ms: number): UserError {
    return new UserError(
      'timeout',
      `The pod ${this.where} did not answer ${what} within ${Math.round(ms / 1000)} s.`
    )
  }

  /** A long-lived command whose stdout is delivered line by line. A line
   *  longer than maxLineBytes ends the stream (done resolves). */
  async lines(
    command: string,
    stdin: string,
    onLine: (line: string) => void,
    o: LinesOptions = {}
  ): Promise<LineStream> {
    const ch = await this.channel(command)
    const close = (): void => {
      // Closing our end makes sshd hang up the command (SIGHUP on its next write).
      ch.signal('TERM')
      ch.close()
    }
    const stream: LineStream = {
      done: new Promise<void>((resolve) => ch.on('close', () => resolve())),
      error: null,
      close
    }
    splitLines(ch, this.opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, onLine, (err) => {
      stream.error = err
      close()
    })
    ch.stderr.resume()
    if (o.keepInput) {
      ch.write(stdin)
      stream.send = (text) => void ch.write(text)
    } else {
      ch.end(stdin)
    }
    return stream
  }

  async sftp(): Promise<SFTPWrapper> {
    const release = await this.slots.acquire()
    try {
      const client = await this.onlineClient()
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
        client.sftp((err, sftp) => (err ? reject(this.channelError(err)) : resolve(sftp)))
      )
      sftp.once('close', release)
      return sftp
    } catch (err) {
      release()
      throw err
    }
  }

  /** An interactive shell on a pseudo-terminal: all that PTY-only servers
   *  (RunPod's SSH proxy) allow. ssh/ptyShell.ts drives it. It takes one of
   *  the connection's channel slots like any other channel. */
  async shell(window: PseudoTtyOptions): Promise<ClientChannel> {
    const release = await this.slots.acquire()
    try {
      const client = await this.onlineClient()
      const ch = await new Promise<ClientChannel>((resolve, reject) =>
        client.shell(window, (err, ch) => (err ? reject(this.channelError(err)) : resolve(ch)))
      )
      ch.once('close', release)
      return ch
    } catch (err) {
      release()
      throw err
    }
  }

  /** Opens an exec channel once one of the connection's slots is free; the
   *  slot is given back when the channel closes. */
  private async channel(command: string, signal?: AbortSignal): Promise<ClientChannel> {
    const release = await this.slots.acquire(signal)
    try {
      const client = await this.onlineClient()
      const ch = await this.openExec(client, command)
      ch.once('close', release)
      return ch
    } catch (err) {
      release()
      throw err
    }
  }

  /**
   * sshd counts a session until it has handled our side of the close, so a
   * channel opened the moment another ends can be refused for a moment (seen
   * with eight channels ending at once under MaxSessions 10): a refused open
   * (ssh2 gives it a reason code) is asked again a few times, briefly.
   */
  private async openExec(client: Client, command: string): Promise<ClientChannel> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<ClientChannel>((resolve, reject) =>
          client.exec(command, (err, ch) => (err ? reject(err) : resolve(ch)))
        )
      } catch (err) {
        const refused = typeof (err as { reason?: unknown }).reason === 'number'
        if (!refused || attempt >= OPEN_RETRY_MS.length) throw this.channelError(err as Error)
        await new Promise((r) => setTimeout(r, OPEN_RETRY_MS[attempt]))
      }
    }
  }

  private async onlineClient(): Promise<Client> {
    if (this.state !== 'online' || !this.client) await this.connect()
    if (!this.client) throw this.offlineError()
    return this.client
  }

  private offlineError(): UserError {
    return new UserError(
      'offline',
      `${this.where} is offline` + (this.lastError ? `: ${this.lastError.message}` : '.')
    )
  }

  private channelError(err: Error): UserError {
    return this.state === 'online'
      ? new UserError('ssh', `SSH to ${this.where} failed: ${err.message}`)
      : this.offlineError()
  }

  private async attempt(): Promise<void> {
    if (this.closed) throw this.offlineError()
    this.setState('connecting', this.lastError)
    try {
      const config = await connectConfig(this.opts)
      this.client = await this.handshake(config)
      this.backoffMs = this.opts.backoffInitialMs ?? 1000
      this.lastError = null
      this.setState('online', null)
    } catch (err) {
      this.lastError =
        err instanceof UserError ? err : describeSshError(err, this.where, this.opts.user)
      this.setState('offline', this.lastError)
      if (this.reconnecting) this.scheduleRetry()
      throw this.lastError
    }
  }

  private async handshake(config: ConnectConfig): Promise<Client> {
    const verifier = hostVerifierFor(
      this.opts.trustKey ?? this.where,
      this.opts.knownHosts,
      this.opts.acceptHostKey
    )
    const client = new (await loadSsh2()).Client()
    return new Promise((resolve, reject) => {
      let ready = false
      client.once('ready', () => {
        ready = true
        resolve(client)
      })
      client.on('error', (err) => {
        if (ready) return // 'close' follows and drives the reconnect
        const decision = verifier.lastDecision()
        if (decision && !decision.ok) reject(this.explained(decision.error))
        else reject(describeSshError(err, this.where, this.opts.user))
      })
      client.once('close', () => {
        if (!ready)
          reject(describeSshError(new Error('connection closed'), this.where, this.opts.user))
        else this.lost(client)
      })
      client.connect({
        ...config,
        hostVerifier: (key: Buffer) => {
          const ok = verifier.verify(key)
          const d = verifier.lastDecision()
          this.fingerprint = d ? (d.ok ? d.fingerprint : d.error.fingerprint) : null
          return ok
        }
      })
    })
  }

  private explained(e: HostKeyError): HostKeyError {
    const why = e.code === 'host-key-changed' ? this.opts.explainHostKeyChange?.() : null
    return why ? new HostKeyError('host-key-changed', `${why} ${e.message}`, e.fingerprint) : e
  }

  private lost(client: Client): void {
    if (this.client !== client) return
    this.client = null
    if (this.closed) return
    this.lastError = new UserError('offline', `The SSH connection to ${this.where} was lost.`)
    this.setState('offline', this.lastError)
    if (this.reconnecting) this.scheduleRetry()
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return
    const delay = this.backoffMs
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.backoffMaxMs ?? 30_000)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      // attempt() reschedules itself on failure; the rejection is already in state.
      this.connect().catch(() => undefined)
    }, delay)
    this.retryTimer.unref?.()
  }

  private setState(state: SshState, err: UserError | null): void {
    const changed = state !== this.state || err !== this.lastErrorEmitted
    this.state = state
    this.lastErrorEmitted = err
    if (changed) this.emit('state', state, err)
  }
  private lastErrorEmitted: UserError | null = null

  /** True when a retry cannot help (the user has to act). */
  static isFatal(err: UserError): boolean {
    return isFatalSshError(err)
  }
}
