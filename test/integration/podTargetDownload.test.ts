// Pod downloads through the real helper over the real sshd, from the real
// loopback model server: they land with the right bytes, go on when the app
// closes or the link drops, and a killed worker resumes with a Range request.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { DownloadRecord } from '../../src/shared/types'
import type { PodTarget } from '../../src/main/targets/pod/podTarget'
import { podTarget, usePodHarness, type FakeStore } from '../support/podTarget'
import { waitFor } from '../support/wait'
import { sidecarDone } from '../support/partFiles'
import { sha256File } from '../support/localFiles'

const MiB = 1 << 20
const pod = usePodHarness()

function setup(): {
  ws: string
  comfyui: string
  store: FakeStore
  open: () => Promise<PodTarget>
} {
  const w = pod.workspace()
  const store = w.store
  return {
    ...w,
    open: async () => {
      const t = podTarget(pod.sshd, store, { ws: w.ws, comfyui: w.comfyui })
      pod.targets.push(t)
      await t.open()
      return t
    }
  }
}

const record = (t: PodTarget, id: string): DownloadRecord | undefined =>
  t.downloads().find((r) => r.id === id)

function statusFile(ws: string): Record<string, Record<string, unknown>> {
  return JSON.parse(readFileSync(join(ws, '.download_status.json'), 'utf8'))
}

describe('pod downloads', () => {
  it('lands in the pod workspace with the right sha256 and shows completed', async () => {
    const { ws, comfyui, open } = setup()
    const f = pod.server.addFile('/pod/a.safetensors', {
      size: 3 * MiB,
      seed: 'a',
      throttleBps: 1.5 * MiB
    })
    const t = await open()
    const seen: string[] = []
    t.on('downloads', (ev) => ev.upserts.forEach((r) => seen.push(r.state)))
    const res = await t.start({ url: f.url, folder: 'loras', connections: 1 })
    const path = join(comfyui, 'models', 'loras', 'a.safetensors')
    expect(res).toMatchObject({ outcome: 'started', path })
    await waitFor(() => record(t, res.id)?.state === 'completed', 'completed')
    expect(sha256File(path)).toBe(f.sha256)
    expect(statusFile(ws)[path]).toMatchObject({ status: 'completed', progress: 100, id: res.id })
    expect(await t.rawStatus()).toMatchObject({ [path]: { status: 'completed' } })
    expect(seen).toContain('downloading')
    expect(await t.listModels()).toEqual([
      expect.objectContaining({ folder: 'loras', name: 'a.safetensors', size: 3 * MiB })
    ])
  })

  it('goes on while the app is closed; a new PodTarget sees it progress and complete', async () => {
    const { ws, comfyui, store, open } = setup()
    // Held at 2 MiB while the app is open, then at 4 MiB while it is closed.
    const f = pod.server.addFile('/pod/b.safetensors', {
      size: 6 * MiB,
      seed: 'b',
      holdAt: 2 * MiB
    })
    const first = await open()
    const { id } = await first.start({ url: f.url, folder: 'checkpoints', connections: 1 })
    await waitFor(() => (record(first, id)?.downloaded ?? 0) > 0, 'first bytes')
    await first.close()
    // The cached snapshot shows the job at once, before SSH is even up.
    const cached = store.cache?.find((r) => r.id === id)
    expect(cached?.state).toBe('downloading')

    pod.server.setFaults(f.path, { holdAt: 4 * MiB })
    const path = join(comfyui, 'models', 'checkpoints', 'b.safetensors')
    await waitFor(
      () => Number(statusFile(ws)[path]?.downloaded) >= 4 * MiB,
      'progress while closed'
    )
    const second = await open()
    const atOpen = record(second, id)?.downloaded ?? 0
    expect(atOpen).toBeGreaterThan(cached?.downloaded ?? 0)
    pod.server.setFaults(f.path, { holdAt: undefined })
    await waitFor(() => (record(second, id)?.downloaded ?? 0) > atOpen, 'progress after reopening')
    await waitFor(() => record(second, id)?.state === 'completed', 'completed', 30_000)
    expect(sha256File(join(comfyui, 'models', 'checkpoints', 'b.safetensors'))).toBe(f.sha256)
  })

  it('reconnects by itself after the connection is cut and keeps showing progress', async () => {
    const { open } = setup()
    const f = pod.server.addFile('/pod/c.safetensors', { size: 4 * MiB, seed: 'c', holdAt: MiB })
    const t = await open()
    const states: string[] = []
    t.on('info', (i) => states.push(i.connection))
    const { id } = await t.start({ url: f.url, folder: 'vae', connections: 1 })
    await waitFor(() => (record(t, id)?.downloaded ?? 0) > 0, 'first bytes')
    await pod.sshd.killConnections()
    await waitFor(() => states.includes('offline'), 'offline')
    const before = record(t, id)?.downloaded ?? 0
    await waitFor(() => t.info().connection === 'online', 'back online')
    pod.server.setFaults(f.path, { holdAt: undefined })
    await waitFor(() => (record(t, id)?.downloaded ?? 0) > before, 'progress after reconnect')
    await waitFor(() => record(t, id)?.state === 'completed', 'completed', 30_000)
    expect(t.info().message).toBeNull()
  })

  it('resumes a killed worker with a Range request on the next open', async () => {
    const { ws, comfyui, open } = setup()
    // The worker saves its sidecar about once a second, so a kill loses what came
    // after the last save: hold the server at 2 MiB and kill once the sidecar has it all.
    const size = 48 * MiB
    const f = pod.server.addFile('/pod/d.safetensors', { size, seed: 'd', holdAt: 2 * MiB })
    const first = await open()
    const { id, path } = await first.start({ url: f.url, folder: 'unet', connections: 1 })
    await waitFor(() => sidecarDone(`${path}.part.json`) === 2 * MiB, 'the first 2 MiB saved')
    await first.close()
    const owner = Object.values(statusFile(ws)).find((e) => e.id === id)?.owner as { pid: number }
    process.kill(owner.pid, 'SIGKILL')
    await waitFor(() => !alive(owner.pid), 'worker gone')
    await waitFor(() => pod.server.openResponses(f.path) === 0, 'its request closed')
    pod.server.setFaults(f.path, { holdAt: undefined })
    const requestsBefore = pod.server.requestsFor(f.path).length

    const second = await open()
    // Up to a minute: a worker killed while holding the status lock leaves it to go
    // stale (10 s) before the resume can write.
    await waitFor(() => record(second, id)?.state === 'completed', 'completed', 60_000)
    expect(sha256File(path)).toBe(f.sha256)
    expect(path).toBe(join(comfyui, 'models', 'unet', 'd.safetensors'))
    const resumed = pod.server.requestsFor(f.path).slice(requestsBefore)
    expect(resumed.some((r) => /^bytes=[1-9]\d*-/.test(String(r.headers.range)))).toBe(true)
    expect(pod.server.bytesServed(f.path)).toBeLessThanOrEqual(size * 1.02)
  }, 120_000)
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.split(') ')[1]?.[0] !== 'Z'
  } catch {
    return false
  }
}

describe('tokens', () => {
  it('reach the helper on stdin only: the download authenticates, no argv, file or log has them', async () => {
    const w = pod.workspace()
    const store = w.store
    const token = 'hf_' + Math.random().toString(36).slice(2) + 'SECRET'
    const f = pod.server.addFile('/gated/e.safetensors', {
      size: 2 * MiB,
      seed: 'e',
      throttleBps: MiB,
      requireToken: token
    })
    const t = podTarget(pod.sshd, store, {
      ws: w.ws,
      comfyui: w.comfyui,
      tokens: { hf: token },
      tokenHosts: { hf: [new URL(pod.server.url).host], civitai: [] }
    })
    pod.targets.push(t)
    await t.open()
    const { id, path } = await t.start({ url: f.url, folder: 'loras', connections: 1 })
    const owner = await waitFor(
      () => Object.values(statusFile(w.ws)).find((e) => e.id === id && e.owner)?.owner,
      'a running worker'
    )
    const argv = readFileSync(`/proc/${(owner as { pid: number }).pid}/cmdline`, 'utf8')
    expect(argv).not.toContain(token)
    await waitFor(() => record(t, id)?.state === 'completed', 'completed')
    expect(sha256File(path)).toBe(f.sha256)
    expect(
      pod.server.requestsFor(f.path).some((r) => r.headers.authorization === `Bearer ${token}`)
    ).toBe(true)
    expect(readFileSync(join(w.ws, '.download_status.json'), 'utf8')).not.toContain(token)
    const log = readFileSync(join(w.ws, '.podpull', 'logs', `${id}.log`), 'utf8')
    expect(log).toContain(f.url)
    expect(log).not.toContain(token)
    await t.close() // flushes the snapshot cache (saved on a timer while open)
    expect(store.cache?.length).toBe(1)
    expect(JSON.stringify(store.cache)).not.toContain(token)
  })
})
