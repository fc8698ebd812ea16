// The download conformance table, run by the pod helper through ONE interactive
// terminal per connection: a real sshd configured like RunPod's proxy (ForceCommand
// refusing exec and PTY-less sessions, no SFTP, one channel per connection).
import { afterAll, beforeAll } from 'vitest'
import { DEFAULT_SETTINGS } from '../../src/shared/types'
import { PodTarget } from '../../src/main/targets/podTarget'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { defineConformance } from '../conformance/scenarios'
import { comfyOf, targetDriver } from '../conformance/targetDriver'

let sshd: SshdHarness
const knownHosts: Record<string, string> = {}

beforeAll(async () => {
  sshd = await startSshd({ ptyOnly: true, maxSessions: 1 })
})
afterAll(async () => {
  await sshd?.close()
})

defineConformance(async () =>
  targetDriver('helper over a PTY-only ssh proxy', async (req) => {
    const target = new PodTarget(
      {
        id: 'conformance-pod',
        name: 'conformance-pod',
        config: {
          kind: 'ssh',
          host: sshd.host,
          port: sshd.port,
          user: sshd.user,
          keyPath: sshd.keyPath,
          workspace: req.workspace,
          comfyui: comfyOf(req)
        }
      },
      {
        settings: () => ({ ...DEFAULT_SETTINGS, autoResume: false }),
        tokens: () => req.tokens ?? {},
        tokenHosts: () => ({
          hf: req.tokenHosts?.hf ?? [],
          civitai: req.tokenHosts?.civitai ?? []
        }),
        knownHosts: { get: (k) => knownHosts[k], set: (k, v) => void (knownHosts[k] = v) },
        secret: () => undefined,
        acceptHostKey: sshd.hostKeyFingerprint,
        cache: { load: () => undefined, save: () => undefined },
        connection: { agent: '' }
      }
    )
    await target.open()
    return target
  })
)
