// `podpull push` as a user runs it, against a real sshd with exec + SFTP:
// files land in the folder they come from, a second push says "Already
// there", a different file is never replaced unasked, and an upload cut at
// half shows as a paused upload in `podpull status` and is finished by
// `podpull resume ID` (or by pushing the file again).
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { assertBuilt, runCli } from '../support/cli'
import { holdsPrefix, writeLocalFile } from '../support/localFiles'
import { killWorkers, newStore, podTarget } from '../support/podTarget'
import { waitFor } from '../support/wait'

const MiB = 1 << 20
let sshd: SshdHarness
let base: string

beforeAll(async () => {
  assertBuilt()
  sshd = await startSshd()
  base = mkdtempSync(join(tmpdir(), 'podpull-clipush-'))
})
afterAll(async () => {
  await sshd?.close()
  rmSync(base, { recursive: true, force: true })
})

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex')

/** A pod workspace, a PODPULL_HOME with the pod as target "pod", and a local models folder. */
async function setup(name: string): Promise<{
  ws: string
  podModels: string
  localLoras: string
  env: NodeJS.ProcessEnv
}> {
  const dir = join(base, name)
  const ws = join(dir, 'workspace')
  const podModels = join(ws, 'ComfyUI', 'models')
  mkdirSync(podModels, { recursive: true })
  const localLoras = join(dir, 'local', 'ComfyUI', 'models', 'loras')
  mkdirSync(localLoras, { recursive: true })
  const home = join(dir, 'home')
  mkdirSync(home)
  const env = { PODPULL_HOME: home }
  const add = await runCli(
    [
      ...['targets', 'add-ssh', 'pod', '--host', '127.0.0.1', '--port', String(sshd.port)],
      ...['--user', sshd.user, '--key', sshd.keyPath, '--workspace', ws, '--accept-new-host-key']
    ],
    env
  )
  expect(add.code, add.stderr).toBe(0)
  return { ws, podModels, localLoras, env }
}

describe('podpull push', () => {
  it('pushes files into their own folder; again says "Already there"; never replaces a different file', async () => {
    const { podModels, localLoras, env } = await setup('basic')
    const a = writeLocalFile(localLoras, 'a.safetensors', 2 * MiB + 1, 'push-a')
    const b = writeLocalFile(localLoras, 'b.safetensors', 300_000, 'push-b')
    const r = await runCli(['push', a.path, b.path, '--target', 'pod'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(sha(join(podModels, 'loras', 'a.safetensors'))).toBe(a.sha256)
    expect(sha(join(podModels, 'loras', 'b.safetensors'))).toBe(b.sha256)

    const again = await runCli(['push', a.path, '--target', 'pod'], env)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('Already there')

    const dest = join(podModels, 'loras', 'a.safetensors')
    const before = statSync(dest).mtimeMs
    const other = writeLocalFile(localLoras, 'other.safetensors', 100_000, 'push-other')
    const refused = await runCli(
      ['push', other.path, '--target', 'pod', '--name', 'a.safetensors'],
      env
    )
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/A different file is already at .*a\.safetensors/)
    expect(statSync(dest).mtimeMs).toBe(before)
    expect(sha(dest)).toBe(a.sha256)

    const noFolder = await runCli(
      ['push', join(base, 'nowhere.safetensors'), '--target', 'pod'],
      env
    )
    expect(noFolder.code).toBe(2)
    expect(noFolder.stderr).toMatch(/is not a file on this computer/)
  }, 180_000)

  it('an upload cut at half is a paused upload in status; "podpull resume ID" finishes it', async () => {
    const { ws, podModels, localLoras, env } = await setup('resume')
    const size = 12 * MiB + 3
    const f = writeLocalFile(localLoras, 'big.safetensors', size, 'push-big')
    const dest = join(podModels, 'loras', 'big.safetensors')

    // The first attempt runs in this process, held at half by a gate, then its link is cut.
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let armed = true
    const store = newStore()
    store.knownHosts[`127.0.0.1:${sshd.port}`] = sshd.hostKeyFingerprint
    const t = podTarget(sshd, store, {
      ws,
      settings: { autoResume: false },
      push: { beforeWrite: (at) => (armed && at >= 6 * MiB ? gate : undefined) }
    })
    try {
      await t.open()
      const { id } = await t.push!({ file: f.path, folder: 'loras', filename: 'big.safetensors' })
      await waitFor(() => holdsPrefix(`${dest}.part`, f.path, 6 * MiB), 'the first half on the pod')
      await sshd.killConnections()
      await waitFor(
        async () => (await t.rawStatus().catch((): Record<string, unknown> => ({})))[dest],
        'the upload paused',
        { until: (e) => (e as { status?: string } | undefined)?.status === 'paused' }
      )
      armed = false
      release()
      await t.close()

      const status = await runCli(['status', '--target', 'pod'], env)
      expect(status.code, status.stderr).toBe(0)
      expect(status.stdout).toMatch(/big\.safetensors/)
      expect(status.stdout).toMatch(/paused/)
      expect(status.stdout).toMatch(/upload/)

      const resumed = await runCli(['resume', id, '--target', 'pod'], env)
      expect(resumed.code, resumed.stderr).toBe(0)
      expect(sha(dest)).toBe(f.sha256)
      expect(existsSync(`${dest}.part`)).toBe(false)
    } finally {
      await t.close()
      killWorkers(ws)
    }
  }, 180_000)
})
