// Controlling pod downloads (pause, resume, cancel, remove, clear) and what a
// user sees when a known pod is down: cached records at once, then live ones.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { DownloadRecord, Settings } from '../../src/shared/types'
import type { PodTarget } from '../../src/main/targets/pod/podTarget'
import { UserError } from '../../src/main/errors'
import {
  killWorkers,
  newStore,
  podTarget,
  usePodHarness,
  type FakeStore
} from '../support/podTarget'
import { waitFor } from '../support/wait'
import { isGone } from '../harness/procTree'
import { statusGateHelper } from '../harness/statusGateHelper'

const MiB = 1 << 20
const pod = usePodHarness()

function statusOf(ws: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ws, '.download_status.json'), 'utf8')) as Record<
    string,
    unknown
  >
}

function setup(settings: Partial<Settings> = {}): {
  root: string
  ws: string
  comfyui: string
  store: FakeStore
  target: () => PodTarget
} {
  const w = pod.workspace()
  const store = w.store
  return {
    ...w,
    target: () => {
      const t = podTarget(pod.sshd, store, { ws: w.ws, comfyui: w.comfyui, settings })
      pod.targets.push(t)
      return t
    }
  }
}

const rec = (t: PodTarget, id: string): DownloadRecord | undefined =>
  t.downloads().find((r) => r.id === id)

/** The pid of the worker running `path`, from the pod's status file. */
const ownerPid = (ws: string, path: string): number | undefined =>
  (statusOf(ws)[path] as { owner?: { pid: number } | null } | undefined)?.owner?.pid

describe('controls', () => {
  it('pauses and resumes, cancels and removes, clears completed', async () => {
    const { ws, target } = setup()
    // Held at 1 MiB, then at 2 MiB: it can't finish before the test says so.
    const slow = pod.server.addFile('/ctl/slow.gguf', { size: 4 * MiB, seed: 's', holdAt: MiB })
    const quick = pod.server.addFile('/ctl/quick.gguf', { size: MiB, seed: 'q' })
    const t = target()
    await t.open()

    const { id, path } = await t.start({ url: slow.url, folder: 'llm', connections: 1 })
    await waitFor(() => (rec(t, id)?.downloaded ?? 0) > 0, 'first bytes')
    const worker = await waitFor(() => ownerPid(ws, path), 'the worker')
    await t.pause(id)
    expect(rec(t, id)?.state).toBe('paused')
    const pausedAt = rec(t, id)!.downloaded
    // Paused means stopped: the worker is gone and its request hung up, so opening
    // the gate further moves nothing until the user resumes.
    await waitFor(() => isGone(worker), 'the paused worker gone')
    await waitFor(() => pod.server.openResponses(slow.path) === 0, 'the request closed')
    pod.server.setFaults(slow.path, { holdAt: 2 * MiB })
    expect(rec(t, id)?.downloaded).toBe(pausedAt)
    expect(pod.server.openResponses(slow.path)).toBe(0)
    await t.resume(id)
    await waitFor(() => (rec(t, id)?.downloaded ?? 0) > pausedAt, 'progress after resume')
    await t.cancel(id)
    expect(rec(t, id)?.state).toBe('cancelled')
    expect(existsSync(`${path}.part`)).toBe(false)
    const removed: string[] = []
    t.on('downloads', (ev) => ev.removed.forEach((r) => removed.push(r.id)))
    await t.remove(id)
    expect(rec(t, id)).toBeUndefined()
    expect(removed).toEqual([id])

    const done = await t.start({ url: quick.url, folder: 'llm', connections: 1 })
    await waitFor(() => rec(t, done.id)?.state === 'completed', 'quick completed')
    expect(await t.clearCompleted()).toBe(1)
    expect(t.downloads()).toEqual([])
    expect(existsSync(done.path)).toBe(true)
  })

  it('names the problem when a start is refused by the helper', async () => {
    const { target } = setup()
    const t = target()
    await t.open()
    const err = await t
      .start({ url: `${pod.server.url}/missing.bin`, folder: 'loras', connections: 1 })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UserError)
    expect((err as UserError).code).toBe('http')
  })
})

describe('a known pod that is down', () => {
  it('shows cached records at once, stays offline without throwing, and catches up when back', async () => {
    const { store, target } = setup()
    const f = pod.server.addFile('/ctl/down.gguf', { size: 2 * MiB, seed: 'd', holdAt: MiB })
    const first = target()
    await first.open()
    const { id } = await first.start({ url: f.url, folder: 'llm', connections: 1 })
    await waitFor(() => (rec(first, id)?.downloaded ?? 0) > 0, 'first bytes')
    await first.close()
    const seenAt = store.lastSeen
    expect(seenAt).not.toBeNull()

    await pod.sshd.stop()
    const t = target()
    expect(t.info()).toMatchObject({ connection: 'connecting', lastSeen: seenAt })
    expect(rec(t, id)?.state).toBe('downloading')
    await t.open() // resolves: the pod is known, it is just down
    expect(t.info().connection).toBe('offline')
    expect(t.info().message).toContain('refused the SSH connection')
    await expect(t.pause(id)).rejects.toThrow(/is not connected/)

    pod.server.setFaults(f.path, { holdAt: undefined })
    await pod.sshd.start()
    await waitFor(() => t.info().connection === 'online', 'online again')
    await waitFor(() => rec(t, id)?.state === 'completed', 'completed')
    expect(t.info().message).toBeNull()
  })

  it('resumes by itself a worker that died while the pod was unreachable', async () => {
    const { ws, target } = setup()
    const size = 4 * MiB
    const f = pod.server.addFile('/ctl/away.gguf', { size, seed: 'w', holdAt: MiB })
    const t = target()
    await t.open()
    const { id, path } = await t.start({ url: f.url, folder: 'llm', connections: 1 })
    await waitFor(() => (rec(t, id)?.downloaded ?? 0) > 0, 'first bytes')
    await pod.sshd.stop()
    await waitFor(() => t.info().connection === 'offline', 'offline')
    killWorkers(ws)
    const requestsBefore = pod.server.requestsFor(f.path).length
    pod.server.setFaults(f.path, { holdAt: undefined })
    await pod.sshd.start()
    await waitFor(() => rec(t, id)?.state === 'completed', 'completed', 30_000)
    expect(existsSync(path)).toBe(true)
    const resumed = pod.server.requestsFor(f.path).slice(requestsBefore)
    expect(resumed.some((r) => /^bytes=[1-9]\d*-/.test(String(r.headers.range)))).toBe(true)
  })

  it('resumes a worker killed while we watch (a pod restart), but never a pause from the CLI', async () => {
    const { ws, target } = setup()
    const f = pod.server.addFile('/ctl/watched.gguf', { size: 4 * MiB, seed: 'k', holdAt: MiB })
    const g = pod.server.addFile('/ctl/cli-paused.gguf', { size: 4 * MiB, seed: 'q', holdAt: MiB })
    const t = target()
    await t.open()
    const a = await t.start({ url: f.url, folder: 'llm', connections: 1 })
    const b = await t.start({ url: g.url, folder: 'llm', connections: 1 })
    await waitFor(
      () => (rec(t, a.id)?.downloaded ?? 0) > 0 && (rec(t, b.id)?.downloaded ?? 0) > 0,
      'bytes'
    )
    // Another client (the CLI) pauses b through the helper: a user's pause.
    const other = target()
    await other.open()
    await other.pause(b.id)
    await other.close()
    // a's worker dies under us (as on a pod restart); the watch sees it settle.
    const pid = ownerPid(ws, a.path)!
    process.kill(pid, 'SIGKILL')
    const requestsBefore = pod.server.requestsFor(f.path).length
    pod.server.setFaults(f.path, { holdAt: undefined })
    await waitFor(() => rec(t, a.id)?.state === 'completed', 'a completed', 30_000)
    const resumed = pod.server.requestsFor(f.path).slice(requestsBefore)
    expect(resumed.some((r) => /^bytes=[1-9]\d*-/.test(String(r.headers.range)))).toBe(true)
    expect(rec(t, b.id)?.state).toBe('paused')
  })

  it('leaves a dead worker paused when auto-resume is off, until the user resumes it', async () => {
    const { ws, target } = setup({ autoResume: false })
    const f = pod.server.addFile('/ctl/dead.gguf', { size: 3 * MiB, seed: 'x', holdAt: MiB })
    const first = target()
    await first.open()
    const { id, path } = await first.start({ url: f.url, folder: 'llm', connections: 1 })
    await waitFor(() => (rec(first, id)?.downloaded ?? 0) > 0, 'first bytes')
    await first.close()
    killWorkers(ws)
    const requestsBefore = pod.server.requestsFor(f.path).length
    const second = target()
    await second.open()
    await waitFor(() => rec(second, id)?.state === 'paused', 'settled to paused')
    // An auto-resume would have been sent the moment the settled entry arrived; a
    // whole download started after that, and finished, shows it never was.
    const control = pod.server.addFile('/ctl/control.gguf', { size: MiB, seed: 'c' })
    const c = await second.start({ url: control.url, folder: 'llm', connections: 1 })
    await waitFor(() => rec(second, c.id)?.state === 'completed', 'the control download')
    expect(rec(second, id)?.state).toBe('paused')
    expect(pod.server.requestsFor(f.path).length).toBe(requestsBefore)

    pod.server.setFaults(f.path, { holdAt: undefined })
    await second.resume(id)
    await waitFor(() => rec(second, id)?.state === 'completed', 'completed', 30_000)
    expect(existsSync(path)).toBe(true)
  })
})

describe('a resume the pod took, then a status read that failed', () => {
  it('is ours all the same (the one kind a PodPull resumes by itself)', async () => {
    const { root, ws, comfyui, store, target } = setup()
    const f = pod.server.addFile('/ctl/taken.gguf', { size: 4 * MiB, seed: 't', holdAt: MiB })
    const first = target()
    await first.open()
    const { id, path } = await first.start({ url: f.url, folder: 'llm', connections: 1 })
    await waitFor(() => (rec(first, id)?.downloaded ?? 0) > 0, 'first bytes')
    await first.pause(id)
    await first.close()

    // Another PodPull (a CLI with settings of its own) resumes it while the
    // pod's status can't be read: the helper takes the resume, the refresh
    // after it fails, so this process never gets a record of the job.
    const gate = statusGateHelper(root)
    gate.close()
    const own: FakeStore = { ...newStore(), knownHosts: { ...store.knownHosts } }
    const cli = podTarget(pod.sshd, own, { ws, comfyui, helper: gate.helper })
    pod.targets.push(cli)
    try {
      await cli.open()
      expect(cli.downloads()).toEqual([])
      await cli.resume(id)
      expect(own.ownJobs.has(id, path)).toBe(true)

      // Once status reads again, the job the helper took is listed, running.
      gate.open()
      await waitFor(() => rec(cli, id)?.state === 'downloading', 'the resumed job listed')
    } finally {
      gate.open()
    }
  })
})
