// What one SSH connection attempt logs in with: the address (asked again
// before every attempt, for pods that move), keepalive and ready timeouts,
// and the credential — a private key file read and parsed up front so a wrong
// path or passphrase gets its own sentence, else ssh-agent, then a password.
// Also loads ssh2 itself, lazily, for sshConnection.ts.
import { readFile } from 'node:fs/promises'
import type { ConnectConfig } from 'ssh2'
import { UserError } from '../errors'

type Ssh2 = typeof import('ssh2')
let ssh2: Promise<Ssh2> | null = null
/** ssh2 loads on first use, so CLI commands for local targets start faster. It
 *  is CommonJS: Node's ESM loader (the built bundle) gives it as a default export. */
export function loadSsh2(): Promise<Ssh2> {
  ssh2 ??= import('ssh2').then((m) => (m as Ssh2 & { default?: Ssh2 }).default ?? m)
  return ssh2
}

/** The login parts of SshConnectionOptions (see there). */
export interface SshLoginOptions {
  host: string
  port: number
  user: string
  keyPath?: string
  secret?: () => string | undefined
  agent?: string
  keepaliveIntervalMs?: number
  readyTimeoutMs?: number
  resolveAddress?: () => Promise<{ host: string; port: number; user: string } | null>
}

/** ssh2's connect options for one attempt (the host verifier is added by the caller). */
export async function connectConfig(o: SshLoginOptions): Promise<ConnectConfig> {
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
    return { ...base, privateKey: await readKey(o.keyPath, secret), passphrase: secret }
  }
  const agent = o.agent ?? process.env.SSH_AUTH_SOCK
  return { ...base, ...(agent ? { agent } : {}), ...(secret ? { password: secret } : {}) }
}

/** Reads and parses the key up front so a wrong path or passphrase gets its own sentence. */
async function readKey(path: string, passphrase: string | undefined): Promise<Buffer> {
  let data: Buffer
  try {
    data = await readFile(path)
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : String(err)
    throw new UserError('bad-request', `Cannot read the SSH key file ${path}: ${why}.`)
  }
  const parsed = (await loadSsh2()).utils.parseKey(data, passphrase)
  if (parsed instanceof Error) {
    if (/no passphrase given/i.test(parsed.message))
      throw new UserError('ssh-auth', `The SSH key ${path} is protected by a passphrase: enter it.`)
    if (/bad passphrase|integrity check/i.test(parsed.message))
      throw new UserError('ssh-auth', `The passphrase for the SSH key ${path} is wrong.`)
    throw new UserError('bad-request', `${path} is not a usable SSH private key.`)
  }
  return data
}
