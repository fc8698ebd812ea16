// An SshConnection (the app's own) to the test sshd, trusting its host key.
import { SshConnection, type SshConnectionOptions } from '../../src/main/ssh/sshConnection'
import type { SshdHarness } from '../harness/sshd'

export function sshdConnection(
  sshd: SshdHarness,
  o: Partial<SshConnectionOptions> = {}
): SshConnection {
  const known: Record<string, string> = { [`${sshd.host}:${sshd.port}`]: sshd.hostKeyFingerprint }
  return new SshConnection({
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    keyPath: sshd.keyPath,
    knownHosts: { get: (k) => known[k], set: (k, v) => void (known[k] = v) },
    agent: '',
    ...o
  })
}
