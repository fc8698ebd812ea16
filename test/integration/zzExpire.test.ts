import { afterAll, beforeAll, expect, it } from 'vitest'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { freshComfy, runCli } from '../support/cli'
let srv: ModelServer
let sshd: SshdHarness
const MiB = 1 << 20
beforeAll(async () => { ;[srv, sshd] = await Promise.all([startModelServer(), startSshd()]) })
afterAll(async () => { await Promise.all([srv?.close(), sshd?.close()]) })
const signed = (url: string, sig: string): string => `${url}?X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=${sig}`
for (const kind of (process.env.KINDS ?? 'local,pod').split(',')) {
  it(`expiring link ${kind}`, async () => {
    const c = freshComfy()
    const env = { PODPULL_HOME: c.home }
    const args = kind === 'local' ? ['targets', 'add-local', 't', '--comfyui', c.comfy]
      : ['targets', 'add-ssh', 't', '--host', sshd.host, '--port', String(sshd.port), '--user', sshd.user, '--key', sshd.keyPath, '--workspace', c.base, '--comfyui', c.comfy, '--accept-new-host-key']
    expect((await runCli(args, env)).code).toBe(0)
    const size = 30 * 1000 * 1000
    const f = srv.addFile(`/exp-${kind}/m.safetensors`, { size, seed: `e${kind}`, requireQuery: { 'X-Amz-Signature': 'a' }, expireAfterBytes: 12 * 1000 * 1000, throttleBps: 8 * MiB })
    const dl = (url: string) => runCli(['download', url, '--target', 't', '--folder', 'loras', '--filename', 'm.safetensors'], env)
    const a = await dl(signed(f.url, 'a'))
    const first = srv.bytesServed(f.path)
    srv.setFaults(f.path, { requireQuery: { 'X-Amz-Signature': 'b' }, expireAfterBytes: undefined })
    const b = await dl(signed(f.url, 'b'))
    console.log(kind, a.code, b.code, 'first', first, 'total ratio', srv.bytesServed(f.path) / size, a.stderr.slice(-200))
  }, 120_000)
}
