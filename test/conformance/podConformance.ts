// The download conformance table's transport scenarios, run by the pod helper
// through PodTarget over a real sshd on loopback, as the app runs it. The
// engine scenarios already ran on the same helper locally (helper.conformance):
// over SSH only what the transport carries can differ. The exec + SFTP and the
// PTY-only test files differ only in how that sshd is configured.
import { afterAll, beforeAll } from 'vitest'
import { DEFAULT_SETTINGS } from '../../src/shared/types'
import { PodTarget } from '../../src/main/targets/pod/podTarget'
import { startSshd, type SshdHarness, type SshdOptions } from '../harness/sshd'
import { defineConformance } from './scenarios'
import { comfyOf, targetDriver } from './targetDriver'

export function definePodConformance(label: string, sshdOptions?: SshdOptions): void {
  let sshd: SshdHarness
  const knownHosts: Record<string, string> = {}

  beforeAll(async () => {
    sshd = await startSshd(sshdOptions)
  })
  afterAll(async () => {
    await sshd?.close()
  })

  defineConformance(
    async () =>
      targetDriver(label, async (req) => {
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
      }),
    ['transport']
  )
}
