// What host key a pod presents right now, without logging in: the handshake
// is stopped at the host-key check (nothing is trusted, nothing sent), so
// the user can compare the fingerprint with the pod's console before trusting it.
import { HostKeyError } from './hostKeyTrust'
import { SshConnection } from './sshConnection'

export async function presentedFingerprint(o: {
  host: string
  port: number
  user: string
}): Promise<string> {
  const conn = new SshConnection({
    ...o,
    agent: '',
    // Nothing is known and nothing accepted: the handshake always stops at the key.
    knownHosts: { get: () => undefined, set: () => undefined },
    readyTimeoutMs: 20_000
  })
  try {
    await conn.connect()
  } catch (err) {
    if (err instanceof HostKeyError) return err.fingerprint
    throw err
  } finally {
    conn.close()
  }
  throw new Error('unreachable: the connection cannot succeed without a trusted key')
}
