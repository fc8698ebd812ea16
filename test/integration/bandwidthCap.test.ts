// A target's bandwidth cap reaches downloads that are already running, on the
// local engine: the test holds the download at a gate in the server, caps the
// target, opens the gate and sees the running reader wait for credit; lifting
// the cap (by hand, or by the schedule at a window edge on an injected clock)
// lets it finish. Rates themselves are measured in the bench, never here.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { BandwidthLimiter } from '../../src/main/engine/bandwidthLimiter'
import { LocalTarget } from '../../src/main/targets/local/localTarget'
import { writeLocalLimits } from '../../src/main/targets/limitsFile'
import { memoryOwnJobs } from '../../src/main/targets/ownJobs'
import { parseSchedule, type BandwidthLimits } from '../../src/shared/bandwidth'
import { DEFAULT_SETTINGS } from '../../src/shared/types'
import { fileSha, startEngine } from '../support/engine'
import { useLocalHarness } from '../support/localHarness'
import { waitFor } from '../support/wait'

const MiB = 1024 * 1024
/** So slow that the rest of the file could not arrive while a test runs. */
const CRAWL = 20_000

const h = useLocalHarness('podpull-bandwidth-')

it('a cap set during a download holds its running connections, and lifting it lets them finish', async () => {
  const f = h.srv.addFile('/bw/one.safetensors', { size: 64 * MiB, holdAfterBytes: MiB })
  const limiter = new BandwidthLimiter()
  const dest = join(h.root, 'one.safetensors')
  const run = startEngine(f, dest, { connections: 8 }, { limiter, segmentThreshold: MiB })
  const reached = (): number => run.progress.at(-1)?.downloaded ?? 0
  await waitFor(
    () => h.srv.openResponses(f.path) >= 8 && h.srv.bytesServed(f.path) >= 8 * MiB,
    'every connection at the gate'
  )

  limiter.setRate(CRAWL)
  h.srv.setFaults(f.path, { holdAfterBytes: undefined })
  await waitFor(() => limiter.waiting, 'the running connections waiting for credit', {
    until: (n) => n >= 2
  })
  expect(reached()).toBeLessThan(f.size)

  limiter.setRate(null)
  const result = await run.result
  expect(result.outcome).toBe('completed')
  expect(fileSha(dest)).toBe(f.sha256)
  expect(limiter.waiting).toBe(0)
})

it('a capped connection waits for its credit before it reads on or asks again: never two waits at once', async () => {
  const f = h.srv.addFile('/bw/steps.safetensors', { size: 16 * MiB, seed: 'steps' })
  // The test is the clock: it moves on only while a reader waits, so credit
  // comes only as the test gives it, however fast the machine.
  let now = 0
  const limiter = new BandwidthLimiter(() => now)
  limiter.setRate(1e6)
  let most = 0
  const take = limiter.take.bind(limiter)
  limiter.take = (n) => {
    const wait = take(n)
    most = Math.max(most, limiter.waiting)
    return wait
  }
  const step = setInterval(() => {
    if (limiter.waiting > 0) now += 100
  }, 1)
  try {
    const dest = join(h.root, 'steps.safetensors')
    const run = startEngine(f, dest, { connections: 4 }, { limiter, segmentThreshold: MiB })
    const result = await run.result
    expect(result.outcome).toBe('completed')
    expect(fileSha(dest)).toBe(f.sha256)
    // Each connection owes at most its last read: a request that ended inside
    // a held read must not start the next one before that credit came.
    expect(most).toBeGreaterThan(0)
    expect(most).toBeLessThanOrEqual(4)
  } finally {
    clearInterval(step)
  }
})

async function target(
  name: string,
  limits: BandwidthLimits,
  clock: () => number,
  limiter: BandwidthLimiter
) {
  const comfyui = join(h.root, name, 'ComfyUI')
  await mkdir(join(comfyui, 'models', 'loras'), { recursive: true })
  const t = new LocalTarget(
    {
      id: name,
      name,
      config: { kind: 'local', comfyui, workspace: join(h.root, name), bandwidth: limits }
    },
    {
      settings: () => ({ ...DEFAULT_SETTINGS, connections: 1, backgroundHashing: false }),
      ownJobs: memoryOwnJobs(),
      auth: () => undefined,
      authHint: () => undefined,
      engine: { retryBaseMs: 50 },
      statusPollMs: 300,
      clock,
      limiter
    }
  )
  h.targets.push(t)
  await t.open()
  return t
}

it('the schedule lifts the cap of a running download at the window edge, in the schedule time zone', async () => {
  let now = Date.UTC(2026, 11, 7, 23, 59, 30) // 00:59:30 in Berlin (UTC+1)
  const limits: BandwidthLimits = {
    maxSpeed: CRAWL,
    schedule: parseSchedule('01:00-07:00=unlimited'),
    timeZone: 'Europe/Berlin'
  }
  const limiter = new BandwidthLimiter()
  const t = await target('sched', limits, () => now, limiter)
  expect(t.info().bandwidth).toEqual({ text: '20.0 KB/s until 01:00', bytesPerSec: CRAWL })

  const f = h.srv.addFile('/bw/two.safetensors', { size: 8 * MiB })
  const a = await t.start({ url: f.url, folder: 'loras', filename: 'a.safetensors' })
  const g = h.srv.addFile('/bw/three.safetensors', { size: 8 * MiB, seed: 'three' })
  const b = await t.start({ url: g.url, folder: 'loras', filename: 'b.safetensors' })
  // Both downloads share the one budget: each has a reader waiting on it.
  await waitFor(() => limiter.waiting, 'both downloads held by the cap', { until: (n) => n >= 2 })
  const state = (id: string) => t.downloads().find((r) => r.id === id)?.state
  await waitFor(() => [state(a.id), state(b.id)], 'both downloading', {
    until: (s) => s.every((x) => x === 'downloading')
  })

  const infos: (string | undefined)[] = []
  t.on('info', (i) => infos.push(i.bandwidth?.text))
  now = Date.UTC(2026, 11, 8, 0, 0, 0) // 01:00 in Berlin: the free window opens
  await waitFor(() => limiter.rate === null, 'the schedule lifting the cap')
  expect(infos).toContain('unlimited until 07:00')
  await waitFor(() => [state(a.id), state(b.id)], 'both completed', {
    until: (s) => s.every((x) => x === 'completed')
  })
  expect(fileSha(join(h.root, 'sched', 'ComfyUI', 'models', 'loras', 'a.safetensors'))).toBe(
    f.sha256
  )
})

it('setBandwidth on an open target caps the downloads it runs, without restarting them', async () => {
  const limiter = new BandwidthLimiter()
  const t = await target('live', { maxSpeed: null, schedule: [] }, Date.now, limiter)
  expect(t.info().bandwidth).toBeNull()
  const f = h.srv.addFile('/bw/four.safetensors', { size: 8 * MiB, holdAt: MiB })
  const { id } = await t.start({ url: f.url, folder: 'loras', filename: 'c.safetensors' })
  await waitFor(() => t.downloads().find((r) => r.id === id)?.downloaded ?? 0, 'at the gate', {
    until: (n) => n >= MiB
  })
  await t.setBandwidth({ maxSpeed: CRAWL, schedule: [] })
  expect(t.info().bandwidth).toEqual({ text: '20.0 KB/s', bytesPerSec: CRAWL })
  h.srv.setFaults(f.path, { holdAt: undefined })
  await waitFor(() => limiter.waiting, 'the running download held by the new cap', {
    until: (n) => n >= 1
  })
  const before = h.srv.requestsFor(f.path).length
  await t.setBandwidth({ maxSpeed: null, schedule: [] })
  await waitFor(() => t.downloads().find((r) => r.id === id)?.state, 'completed', {
    until: (s) => s === 'completed'
  })
  // The same request went on: a cap never costs a reconnect.
  expect(h.srv.requestsFor(f.path).length).toBe(before)
})

it('a cap another process writes into the workspace reaches this target within a tick', async () => {
  const limiter = new BandwidthLimiter()
  const t = await target('shared', { maxSpeed: null, schedule: [] }, Date.now, limiter)
  // What `podpull targets set` in another process does: it writes the workspace's limits file.
  await writeLocalLimits(join(h.root, 'shared'), { maxSpeed: CRAWL, schedule: [] })
  await waitFor(() => limiter.rate, 'the cap read from the limits file', {
    until: (r) => r === CRAWL
  })
  expect(t.info().bandwidth?.text).toBe('20.0 KB/s')
  // The dialog edits what is in force, not what this process last set.
  expect(t.info().config.bandwidth).toEqual({ maxSpeed: CRAWL, schedule: [] })
  await writeLocalLimits(join(h.root, 'shared'), { maxSpeed: null, schedule: [] })
  await waitFor(() => limiter.rate, 'the cap lifted', { until: (r) => r === null })
})
