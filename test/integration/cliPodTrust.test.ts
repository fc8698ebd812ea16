// The CLI with a pod (real sshd) that gets rebuilt with a new host key:
// `status` shows the cached rows with the real last-seen time, the reason on
// stderr and exit 1; `targets trust` takes only the key the pod presents now;
// removing the last target at an address forgets that address's pin.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { assertBuilt, runCli } from '../support/cli'

let sshd: SshdHarness
let srv: ModelServer

beforeAll(async () => {
  assertBuilt()
  ;[sshd, srv] = await Promise.all([startSshd(), startModelServer()])
})
afterAll(async () => {
  await Promise.all([sshd?.close(), srv?.close()])
})

type Store = {
  targets: { id: string; name: string }[]
  knownHosts: Record<string, string>
}

describe('a rebuilt pod from the CLI', () => {
  it('status marks cached rows with the real last-seen time and exits 1; trust brings it back', async () => {
    const base = mkdtempSync(join(tmpdir(), 'podpull-clipod-'))
    const home = join(base, 'home')
    const ws = join(base, 'workspace')
    const comfy = join(ws, 'ComfyUI')
    mkdirSync(join(comfy, 'models', 'loras'), { recursive: true })
    mkdirSync(home)
    const env = { PODPULL_HOME: home, SSH_AUTH_SOCK: '' }
    const storeFile = join(home, 'config.json')
    const store = (): Store => JSON.parse(readFileSync(storeFile, 'utf8')) as Store
    const hostPort = `127.0.0.1:${sshd.port}`
    const addPod = (name: string, extra: string[] = []) =>
      runCli(
        [
          ...['targets', 'add-ssh', name, '--host', '127.0.0.1', '--port', String(sshd.port)],
          ...['--user', sshd.user, '--key', sshd.keyPath, '--workspace', ws],
          ...['--comfyui', comfy, ...extra]
        ],
        env
      )

    const add = await addPod('pod', ['--accept-new-host-key'])
    expect(add.code, add.stderr).toBe(0)
    const f = srv.addFile('/clipod/lora-a.safetensors', { size: 1 << 20, seed: 'clipod' })
    const dl = await runCli(['download', f.url, '--target', 'pod', '--folder', 'loras'], env)
    expect(dl.code, dl.stderr).toBe(0)

    // The pod was last reached three hours ago; then it was rebuilt.
    const threeHoursAgo = Date.now() - 3 * 3600_000
    const id = store().targets[0]!.id
    // The pod's snapshot, in its own file beside the settings.
    const cacheFile = join(home, 'pod-cache', `${id}.json`)
    const cached = () => JSON.parse(readFileSync(cacheFile, 'utf8')) as { lastSeen: number }
    writeFileSync(cacheFile, JSON.stringify({ ...cached(), lastSeen: threeHoursAgo }))
    const oldKey = sshd.hostKeyFingerprint
    await sshd.regenerateHostKey()
    const newKey = sshd.hostKeyFingerprint
    expect(newKey).not.toBe(oldKey)

    const st = await runCli(['status', '--target', 'pod'], env)
    expect(st.code).toBe(1)
    const when = new Date(threeHoursAgo).toISOString().slice(0, 16).replace('T', ' ')
    expect(st.stdout).toContain(
      `"pod" is unreachable: cached status, last seen 3 h ago (${when} UTC).`
    )
    expect(st.stdout).toContain('pod  loras/lora-a.safetensors')
    expect(st.stdout).toContain(`(cached: last seen 3 h ago (${when} UTC))`)
    expect(st.stdout).not.toContain('No downloads.')
    expect(st.stderr).toContain(`Cannot reach "pod": The host key of ${hostPort} changed`)
    expect(st.stderr).toContain(`was ${oldKey}, now ${newKey}`)
    // The way forward, ready to run once the key is checked.
    expect(st.stderr).toContain(`podpull targets trust pod --fingerprint ${newKey}`)

    // Trying to reach it did not make it "seen".
    const list = await runCli(['targets', 'list'], env)
    expect(list.stdout).toContain('last seen 3 h ago')
    expect(list.stdout).not.toContain('just now')

    // A fingerprint other than the one presented is refused, and nothing changes.
    const wrong = 'SHA256:' + 'x'.repeat(43)
    const bad = await runCli(['targets', 'trust', 'pod', '--fingerprint', wrong], env)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain(`presents ${newKey} now, not ${wrong}: nothing was trusted`)
    expect(store().knownHosts[hostPort]).toBe(oldKey)
    const malformed = await runCli(['targets', 'trust', 'pod', '--fingerprint', 'abc'], env)
    expect(malformed.code).toBe(2)
    expect(malformed.stderr).toContain('fingerprint must look like SHA256:')

    const ok = await runCli(['targets', 'trust', 'pod', '--fingerprint', newKey], env)
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toContain(`Trusted ${newKey} for "pod".`)
    expect(store().knownHosts[hostPort]).toBe(newKey)
    const back = await runCli(['status', '--target', 'pod'], env)
    expect(back.code, back.stderr).toBe(0)
    expect(back.stdout).toContain('loras/lora-a.safetensors')
    expect(back.stdout).not.toContain('cached')
    expect(cached().lastSeen).toBeGreaterThan(threeHoursAgo + 3600_000)

    // Merely down (nothing listening): same rule, the reason on stderr, exit 1.
    await sshd.stop()
    const down = await runCli(['status', '--target', 'pod'], env)
    expect(down.code).toBe(1)
    expect(down.stdout).toContain('"pod" is unreachable: cached status, last seen just now')
    expect(down.stdout).toContain('loras/lora-a.safetensors')
    expect(down.stderr).toMatch(/Cannot reach "pod": .+/)
    await sshd.start()

    // The pin stays while another target uses the address, and goes with the last one.
    expect((await addPod('pod-two')).code).toBe(0)
    expect((await runCli(['targets', 'remove', 'pod'], env)).code).toBe(0)
    expect(store().knownHosts[hostPort]).toBe(newKey)
    expect((await runCli(['targets', 'remove', 'pod-two'], env)).code).toBe(0)
    expect(store().knownHosts).toEqual({})
  }, 180_000)
})
