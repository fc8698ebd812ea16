// A real OpenSSH sshd on 127.0.0.1 for tests: own config, host key, client
// key and authorized_keys in a temp dir, logging to a file. It can be
// stopped and started again on the same port with the same keys (a pod
// going away and coming back), have its live sessions cut, or get a new
// host key (a pod rebuilt behind the same address).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { descendants, isGone } from './procTree'
import { setPassword, type PasswordRestore } from './systemPassword'

export interface SshdHarness {
  host: '127.0.0.1'
  port: number
  user: string // the current user
  keyPath: string // private key (ed25519, no passphrase) accepted by authorized_keys
  publicKey: string
  hostKeyFingerprint: string // 'SHA256:…' (as `ssh-keygen -lf` prints) of the server's host key
  dir: string // temp dir with config, keys, logs
  home: string // the sessions' HOME: an empty dir of its own unless sessionEnv names one
  pid: number | null
  stop(): Promise<void> // cut sessions, kill the listener by PID, wait until the port is closed
  start(): Promise<void> // start again on the SAME port with the same keys (pod coming back)
  killConnections(): Promise<void> // kill the per-connection sshd children (listener stays)
  regenerateHostKey(): Promise<void> // new host key; restarts sshd if it was running
  moveToNewPort(): Promise<void> // stop, then start on another free port with the same keys
  logs(): string
  close(): Promise<void> // stop and remove the temp dir
}

export interface SshdOptions {
  // SetEnv for sessions, e.g. PATH without python3. HOME is <dir>/home unless
  // given here, so the user's own ~/.bashrc never runs in a session.
  sessionEnv?: Record<string, string>
  password?: string // also allow password login (root only: sets the account password while up)
  /** Configured like RunPod's SSH proxy: a ForceCommand wrapper that refuses
   *  exec requests and sessions without a PTY, no SFTP, no forwarding. */
  ptyOnly?: boolean
  /** sshd's MaxSessions (channels per connection); RunPod's proxy allows one. */
  maxSessions?: number
  /** authorized_keys holds this line instead of the harness's own client key
   *  (a pod created with env.PUBLIC_KEY). */
  authorizedKey?: string
}

/** The ForceCommand of a PTY-only server: an interactive shell or nothing. Like
 *  a real pod, the terminal greets with a coloured banner and a coloured
 *  prompt (noise the PTY transport must ignore); the shell skips the system rc
 *  files only to start fast on a loaded test machine. */
const wrapperScript = (rcFile: string): string => `#!/bin/sh
if [ -n "$SSH_ORIGINAL_COMMAND" ]; then
  echo "Error: this server only gives an interactive terminal; commands are not allowed." >&2
  exit 1
fi
if [ ! -t 0 ]; then
  echo "Error: Your SSH client doesn't support PTY" >&2
  exit 1
fi
printf '\\033[1;36m  RunPod-like proxy: welcome\\033[0m\\r\\n'
exec bash --noprofile --rcfile ${rcFile} -i
`
const PTY_ONLY_RC = `PS1='\\[\\e[32m\\]root@pod\\[\\e[0m\\]:\\w# '
echo -e '\\e[33mtip: models live in /workspace\\e[0m'
`

const SSHD = '/usr/sbin/sshd'
const START_TIMEOUT_MS = 10_000

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function newKey(path: string): void {
  rmSync(path, { force: true })
  rmSync(`${path}.pub`, { force: true })
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'podpull-test', '-f', path])
}

function fingerprintOf(pubPath: string): string {
  // "256 SHA256:abc… comment (ED25519)"
  const fp = sh('ssh-keygen', ['-lf', pubPath]).split(' ')[1]
  if (!fp?.startsWith('SHA256:')) throw new Error(`Unexpected ssh-keygen -lf output for ${pubPath}`)
  return fp
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject()))
    })
  })
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port })
    c.once('connect', () => {
      c.destroy()
      resolve(true)
    })
    c.once('error', () => resolve(false))
  })
}

/** True once an SSH server greets on the port: a mere open port could be
 *  someone else who took it while our sshd was down. */
function sshGreets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port })
    const done = (ok: boolean): void => {
      c.destroy()
      resolve(ok)
    }
    c.setTimeout(2000, () => done(false))
    c.once('data', (d) => done(d.toString('latin1').startsWith('SSH-')))
    c.once('error', () => done(false))
    c.once('close', () => done(false))
  })
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function configText(o: {
  port: number
  dir: string
  hostKey: string
  password: boolean
  env: Record<string, string>
  ptyOnlyWrapper?: string
  maxSessions?: number
}): string {
  const lines = [
    `Port ${o.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${o.hostKey}`,
    `PidFile ${join(o.dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(o.dir, 'authorized_keys')}`,
    'UsePAM no',
    'StrictModes no',
    'PubkeyAuthentication yes',
    `PasswordAuthentication ${o.password ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'PermitRootLogin yes',
    'PermitEmptyPasswords no',
    `AllowTcpForwarding ${o.ptyOnlyWrapper ? 'no' : 'yes'}`,
    'X11Forwarding no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    // Many parallel test connections (one per download connection) must not
    // be turned away by the default 10:30:100 pre-auth throttling.
    'MaxStartups 100',
    `MaxSessions ${o.maxSessions ?? 100}`,
    'LogLevel VERBOSE'
  ]
  if (o.ptyOnlyWrapper) {
    lines.push('DisableForwarding yes', 'PermitTTY yes', `ForceCommand ${o.ptyOnlyWrapper}`)
  } else lines.push('Subsystem sftp internal-sftp')
  const pairs = Object.entries(o.env).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /["\\\n]/.test(v))
      throw new Error(`sessionEnv ${k}: names are [A-Za-z0-9_], values without quotes or newlines`)
    return `"${k}=${v}"`
  })
  // sshd keeps only the first SetEnv line, so every pair goes on one line.
  if (pairs.length) lines.push(`SetEnv ${pairs.join(' ')}`)
  return lines.join('\n') + '\n'
}

/** Sessions get an empty HOME of their own (unless given), like a fresh pod:
 *  the test machine user's ~/.bashrc would otherwise run in every session.
 *  Such an rc can rewrite a session PATH (a pyenv or cargo line brings python3
 *  back), and a version manager's init forks a hundred processes each time
 *  (pyenv init and rehash: about a second per exec on a loaded machine). */
function sessionEnvWithHome(dir: string, opts: SshdOptions): Record<string, string> {
  const home = opts.sessionEnv?.HOME ?? join(dir, 'home')
  if (opts.sessionEnv?.HOME === undefined) mkdirSync(home, { recursive: true })
  return { ...opts.sessionEnv, HOME: home }
}

// Harnesses not yet closed, killed if the test process exits without closing them.
const running = new Set<{ killNow(): void }>()
process.once('exit', () => running.forEach((s) => s.killNow()))

class Sshd implements SshdHarness {
  readonly host = '127.0.0.1' as const
  readonly user = userInfo().username
  readonly keyPath: string
  readonly publicKey: string
  readonly home: string
  hostKeyFingerprint = ''
  pid: number | null = null
  private child: ChildProcess | null = null
  private restorePassword: PasswordRestore | null = null
  private readonly hostKey: string
  private readonly logFile: string
  private readonly configFile: string
  private config: Parameters<typeof configText>[0]

  constructor(
    readonly dir: string,
    public port: number,
    private readonly opts: SshdOptions
  ) {
    this.hostKey = join(dir, 'host_ed25519')
    this.keyPath = join(dir, 'id_ed25519')
    this.logFile = join(dir, 'sshd.log')
    this.configFile = join(dir, 'sshd_config')
    newKey(this.hostKey)
    newKey(this.keyPath)
    this.publicKey = readFileSync(`${this.keyPath}.pub`, 'utf8').trim()
    const authorized = opts.authorizedKey ?? this.publicKey
    writeFileSync(join(dir, 'authorized_keys'), authorized + '\n', { mode: 0o600 })
    this.hostKeyFingerprint = fingerprintOf(`${this.hostKey}.pub`)
    let ptyOnlyWrapper: string | undefined
    if (opts.ptyOnly) {
      ptyOnlyWrapper = join(dir, 'pty-only.sh')
      writeFileSync(join(dir, 'pod-bashrc'), PTY_ONLY_RC)
      writeFileSync(ptyOnlyWrapper, wrapperScript(join(dir, 'pod-bashrc')), { mode: 0o755 })
    }
    const cfg = {
      port,
      dir,
      hostKey: this.hostKey,
      password: opts.password !== undefined,
      ptyOnlyWrapper,
      maxSessions: opts.maxSessions
    }
    const env = sessionEnvWithHome(dir, opts)
    this.home = env.HOME ?? ''
    this.config = { ...cfg, env }
    writeFileSync(this.configFile, configText(this.config))
  }

  async start(): Promise<void> {
    if (this.child) return
    if (this.opts.password !== undefined)
      this.restorePassword = setPassword(this.user, this.opts.password)
    const child = spawn(SSHD, ['-D', '-f', this.configFile, '-E', this.logFile], {
      stdio: 'ignore'
    })
    this.child = child
    this.pid = child.pid ?? null
    let exited: string | null = null
    child.on('error', (err) => (exited ??= err.message))
    child.once('exit', (code, sig) => {
      exited ??= `exited with ${sig ?? code}`
      if (this.child === child) {
        this.child = null
        this.pid = null
      }
    })
    const deadline = Date.now() + START_TIMEOUT_MS
    while (!(await sshGreets(this.port))) {
      if (exited !== null || Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(
          `sshd on port ${this.port} did not start (${exited ?? 'timed out'}); log:\n${this.logs()}`
        )
      }
      await sleep(25)
    }
  }

  async stop(): Promise<void> {
    await this.killConnections()
    const child = this.child
    if (child) {
      const gone = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await Promise.race([gone, sleep(3000)])
      if (this.child === child) child.kill('SIGKILL')
      this.child = null
      this.pid = null
    }
    const deadline = Date.now() + 5000
    while (await portOpen(this.port)) {
      if (Date.now() > deadline) throw new Error(`Port ${this.port} still open after sshd stopped`)
      await sleep(25)
    }
    this.restorePassword?.()
    this.restorePassword = null
  }

  /** A pod restarted by RunPod: same host key, a new public port. */
  async moveToNewPort(): Promise<void> {
    await this.stop()
    this.port = await freePort()
    this.config = { ...this.config, port: this.port }
    writeFileSync(this.configFile, configText(this.config))
    await this.start()
  }

  async killConnections(): Promise<void> {
    if (this.pid === null) return
    // Only the sshd processes serving connections: the user's own processes
    // (a detached helper, say) live on, as they would after a network drop.
    const victims = descendants(this.pid).filter((p) => p.comm.startsWith('sshd') && !isGone(p.pid))
    for (const p of victims) {
      try {
        process.kill(p.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + 3000
    while (victims.some((p) => !isGone(p.pid)) && Date.now() < deadline) await sleep(10)
  }

  async regenerateHostKey(): Promise<void> {
    const running = this.child !== null
    if (running) await this.stop()
    newKey(this.hostKey)
    this.hostKeyFingerprint = fingerprintOf(`${this.hostKey}.pub`)
    if (running) await this.start()
  }

  logs(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : ''
  }

  async close(): Promise<void> {
    await this.stop()
    running.delete(this)
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** Last resort when the test process exits without stopping us. */
  killNow(): void {
    if (this.pid !== null) {
      for (const p of descendants(this.pid).filter((d) => d.comm.startsWith('sshd')))
        try {
          process.kill(p.pid, 'SIGKILL')
        } catch {
          // already gone
        }
    }
    this.child?.kill('SIGKILL')
    this.restorePassword?.()
  }
}

export async function startSshd(opts: SshdOptions = {}): Promise<SshdHarness> {
  if (!existsSync(SSHD))
    throw new Error(`${SSHD} is missing: install openssh-server (.ci/run does) to run SSH tests`)
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true })
  const dir = mkdtempSync(join(tmpdir(), 'podpull-sshd-'))
  // Another process can grab a free port between our probe and sshd's bind:
  // try a few ports before giving up.
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const sshd = new Sshd(dir, await freePort(), opts)
    try {
      await sshd.start()
      running.add(sshd)
      return sshd
    } catch (err) {
      lastError = err
      await sshd.stop().catch(() => undefined)
    }
  }
  rmSync(dir, { recursive: true, force: true })
  throw lastError
}
