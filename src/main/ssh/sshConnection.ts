// One SSH connection per pod, carrying many channels (exec with a JSON request
// on stdin, long-lived line streams, SFTP). It keeps itself alive: keepalives
// notice a dead link, and once it has been online it reconnects by itself with
// backoff (1 s doubling to 30 s), announcing every state change.
import { EventEmitter } from 'node:events'
import { readFile } from 'node:fs/promises'
import type { Client, ClientChannel, ConnectConfig, PseudoTtyOptions, SFTPWrapper } from 'ssh2'
import { UserError } from '../targets/target'
import { HostKeyError, hostPortKey, hostVerifierFor, type KnownHosts } from './hostKeyTrust'
import { describeSshError, isFatalSshError } from './sshErrors'

type Ssh2 = typeof import('ssh2')
let ssh2: Promise<Ssh2> | null = null
/** ssh2 loads on first use, so CLI commands for local targets start faster. It
 *  is CommonJS: Node's ESM loader (the built bundle) gives it as a default export. */
function loadSsh2(): Promise<Ssh2> {
  ssh2 ??= import('ssh2').then((m) => (m as Ssh2 & { default?: Ssh2 }).default ?? m)
  return ssh2
}

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

export interface ExecResult {
  stdout: string
  stderr: string
  code: number | null
}

export interface LineStream {
  /** Resolves when the channel closes (either side). */
  done: Promise<void>
  close(): void
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

  constructor(private readonly opts: SshConnectionOptions) {
    super()
    this.where = hostPortKey(opts.host, opts.port)
    this.backoffMs = opts.backoffInitialMs ?? 1000
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

  async exec(command: string, stdin?: string): Promise<ExecResult> {
    const ch = await this.channel(command)
    return new Promise((resolve) => {
      const out: Buffer[] = []
      const err: Buffer[] = []
      let code: number | null = null
      ch.on('data', (d: Buffer) => out.push(d))
      ch.stderr.on('data', (d: Buffer) => err.push(d))
      ch.on('exit', (c: number | null) => (code = c))
      ch.on('close', () =>
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          code
        })
      )
      ch.end(stdin ?? '')
    })
  }

  /** A long-lived command whose stdout is delivered line by line. */
  async lines(command: string, stdin: string, onLine: (line: string) => void): Promise<LineStream> {
    const ch = await this.channel(command)
    let buf = ''
    ch.on('data', (d: Buffer) => {
      buf += d.toString('utf8')
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim()
        buf = buf.slice(nl + 1)
        if (line) onLine(line)
      }
    })
    ch.stderr.resume()
    const done = new Promise<void>((resolve) => ch.on('close', () => resolve()))
    ch.end(stdin)
    return {
      done,
      close: () => {
        // Closing our end makes sshd hang up the command (SIGHUP on its next write).
        ch.signal('TERM')
        ch.close()
      }
    }
  }

  async sftp(): Promise<SFTPWrapper> {
    const client = await this.onlineClient()
    return new Promise((resolve, reject) =>
      client.sftp((err, sftp) => (err ? reject(this.channelError(err)) : resolve(sftp)))
    )
  }

  /** An interactive shell on a pseudo-terminal: all that PTY-only servers
   *  (RunPod's SSH proxy) allow. ssh/ptyShell.ts drives it. */
  async shell(window: PseudoTtyOptions): Promise<ClientChannel> {
    const client = await this.onlineClient()
    return new Promise((resolve, reject) =>
      client.shell(window, (err, ch) => (err ? reject(this.channelError(err)) : resolve(ch)))
    )
  }

  private async channel(command: string): Promise<ClientChannel> {
    const client = await this.onlineClient()
    return new Promise((resolve, reject) =>
      client.exec(command, (err, ch) => (err ? reject(this.channelError(err)) : resolve(ch)))
    )
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
      const config = await this.connectConfig()
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

  private async connectConfig(): Promise<ConnectConfig> {
    const o = this.opts
    const secret = o.secret?.()
    const addr = (await o.resolveAddress?.()) ?? o
    const base: ConnectConfig = {
      host: addr.host,
      port: addr.port,
      username: addr.user,
      keepaliveInterval: o.keepaliveIntervalMs ?? 10_000,
      keepaliveCountMax: 3,
      readyTimeout: o.readyTimeoutMs ?? 20_000
    }
    if (o.keyPath) {
      return { ...base, privateKey: await this.readKey(o.keyPath, secret), passphrase: secret }
    }
    const agent = o.agent ?? process.env.SSH_AUTH_SOCK
    return { ...base, ...(agent ? { agent } : {}), ...(secret ? { password: secret } : {}) }
  }

  /** Reads and parses the key up front so a wrong path or passphrase gets its own sentence. */
  private async readKey(path: string, passphrase: string | undefined): Promise<Buffer> {
    let data: Buffer
    try {
      data = await readFile(path)
    } catch (err) {
      const why =
        (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : String(err)
      throw new UserError('bad-request', `Cannot read the SSH key file ${path}: ${why}.`)
    }
    const parsed = (await loadSsh2()).utils.parseKey(data, passphrase)
    if (parsed instanceof Error) {
      if (/no passphrase given/i.test(parsed.message))
        throw new UserError(
          'ssh-auth',
          `The SSH key ${path} is protected by a passphrase: enter it.`
        )
      if (/bad passphrase|integrity check/i.test(parsed.message))
        throw new UserError('ssh-auth', `The passphrase for the SSH key ${path} is wrong.`)
      throw new UserError('bad-request', `${path} is not a usable SSH private key.`)
    }
    return data
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
