// Pushing a file to a pod that only gives a terminal (sshd configured like
// RunPod's proxy: no exec, no SFTP, one channel per connection): the bytes go
// as base64 chunks through the helper, each checked by its sha256 on the pod,
// and the file lands with the right bytes; a push cut half-way continues from
// what the pod holds. A damaged chunk is refused by the helper itself.
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { PodTarget } from '../../src/main/targets/pod/podTarget'
import type { PushTuning } from '../../src/main/targets/pod/podPush'
import { runHelper } from '../conformance/helperDriver'
import { openPodTarget, usePodHarness } from '../support/podTarget'
import { holdsPrefix, writeLocalFile, sha256File } from '../support/localFiles'
import { waitFor } from '../support/wait'

vi.mock('../harness/sshd', async (importOriginal) => {
  const real = await importOriginal<typeof import('../harness/sshd')>()
  return {
    ...real,
    startSshd: (o: Parameters<typeof real.startSshd>[0] = {}) =>
      real.startSshd({ ...o, ptyOnly: true, maxSessions: 1 })
  }
})

const KiB = 1024
const pod = usePodHarness()
const local = mkdtempSync(join(tmpdir(), 'podpull-pushpty-local-'))
afterAll(() => rmSync(local, { recursive: true, force: true }))

const open = (o: Parameters<typeof openPodTarget>[1] = {}) => openPodTarget(pod, o)

const state = (t: PodTarget, id: string): string | undefined =>
  t.downloads().find((r) => r.id === id)?.state

describe('push over the terminal only', () => {
  it('lands with the right bytes, cut half-way and continued from what the pod holds', async () => {
    const size = 1100 * KiB + 17
    const half = 512 * KiB
    let sent = 0
    let armed = true
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const push: PushTuning = {
      onSent: (n) => (sent += n),
      beforeWrite: (at) => (armed && at >= half ? gate : undefined)
    }
    const { t, comfyui } = await open({ push, settings: { autoResume: false } })
    const f = writeLocalFile(local, 'pty.safetensors', size, 'pty-push')
    const dest = join(comfyui, 'models', 'loras', 'pty.safetensors')
    const { id } = await t.push!({ file: f.path, folder: 'loras', filename: 'pty.safetensors' })
    await waitFor(() => holdsPrefix(`${dest}.part`, f.path, half), 'the first half on the pod')
    expect(existsSync(dest)).toBe(false)

    await pod.sshd.killConnections()
    await waitFor(
      async () => (await t.rawStatus().catch((): Record<string, unknown> => ({})))[dest],
      'the upload paused on the pod',
      { until: (e) => (e as { status?: string } | undefined)?.status === 'paused', ms: 60_000 }
    )
    armed = false
    release()
    await t.resume(id)
    await waitFor(() => state(t, id) === 'completed', 'the resumed upload completed', 60_000)
    expect(sha256File(dest)).toBe(f.sha256)
    expect(statSync(dest).size).toBe(size)
    // Chunks of 256 KiB: the half the pod held was not sent again.
    expect(sent).toBeLessThanOrEqual(size + 256 * KiB)
  }, 240_000)

  it('the helper refuses a damaged chunk and writes nothing of it', async () => {
    const w = pod.workspace()
    const models = join(w.comfyui, 'models')
    const data = Buffer.alloc(1000, 7)
    const sha = createHash('sha256').update(data).digest('hex')
    const begin = await runHelper('push-begin', {
      workspace: w.ws,
      models_dir: models,
      folder: 'loras',
      filename: 'c.safetensors',
      size: data.length,
      sha256: sha
    })
    expect(begin).toMatchObject({ ok: true, outcome: 'started' })
    const damaged = Buffer.from(data)
    damaged[10] = 8
    const refused = await runHelper('push-chunk', {
      workspace: w.ws,
      id: begin.id,
      offset: 0,
      data: damaged.toString('base64'),
      sha256: sha
    })
    expect(refused).toMatchObject({ ok: false, code: 'checksum' })
    const part = join(models, 'loras', 'c.safetensors.part')
    expect(statSync(part).size).toBe(0)
    const gap = await runHelper('push-chunk', {
      workspace: w.ws,
      id: begin.id,
      offset: 10,
      data: data.subarray(10).toString('base64'),
      sha256: createHash('sha256').update(data.subarray(10)).digest('hex')
    })
    expect(gap).toMatchObject({ ok: false, code: 'bad-request' })
    const early = await runHelper('push-commit', { workspace: w.ws, id: begin.id })
    expect(early).toMatchObject({ ok: false, code: 'bad-request' })
    expect(existsSync(join(models, 'loras', 'c.safetensors'))).toBe(false)
  })
})
