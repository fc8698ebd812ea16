// The pod helper enforces the workspace's bandwidth cap: `set-limits` writes
// the limits file, every running worker re-reads it, shows the share of the cap
// it runs at in its status entry (`bandwidth_cap`), and splits the cap with the
// other workers transferring. The test waits on those entries, never on a rate.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { limitsFileBody } from '../../src/main/targets/limitsFile'
import type { BandwidthLimits } from '../../src/shared/bandwidth'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { waitFor } from '../support/wait'
import {
  FAST,
  entryById,
  runHelper,
  waitForState,
  type StatusEntry
} from '../conformance/helperDriver'

const MiB = 1 << 20
/** So slow that the rest of a file could not arrive while a test runs. */
const CRAWL = 20_000

let srv: ModelServer
let root: string
let n = 0

beforeAll(async () => {
  srv = await startModelServer()
  root = mkdtempSync(join(tmpdir(), 'podpull-helper-bw-'))
})
afterAll(async () => {
  await srv?.close()
  rmSync(root, { recursive: true, force: true })
})

function workspace(): { workspace: string; modelsDir: string } {
  const ws = join(root, `w${++n}`)
  const modelsDir = join(ws, 'ComfyUI', 'models')
  mkdirSync(join(modelsDir, 'loras'), { recursive: true })
  return { workspace: ws, modelsDir }
}

async function setLimits(ws: string, limits: BandwidthLimits, now = Date.now()) {
  const a = await runHelper('set-limits', { workspace: ws, limits: limitsFileBody(limits, now) })
  expect(a).toEqual({ ok: true })
}

async function start(d: { workspace: string; modelsDir: string }, url: string, filename: string) {
  const a = await runHelper('start', {
    ...FAST,
    workspace: d.workspace,
    models_dir: d.modelsDir,
    url,
    folder: 'loras',
    filename,
    connections: 8
  })
  expect(a.ok, a.error).toBe(true)
  return a.id as string
}

const entry = (ws: string, id: string): StatusEntry & { bandwidth_cap?: number | null } =>
  (entryById(ws, id)?.[1] ?? {}) as StatusEntry & { bandwidth_cap?: number | null }

it('caps a running download and lets it go when the cap is lifted', async () => {
  const d = workspace()
  const f = srv.addFile('/hbw/one.safetensors', { size: 32 * MiB, holdAt: MiB })
  const id = await start(d, f.url, 'one.safetensors')
  await waitFor(() => entry(d.workspace, id).downloaded ?? 0, 'at the gate', {
    until: (b) => b >= MiB
  })
  expect(entry(d.workspace, id)).not.toHaveProperty('bandwidth_cap')

  await setLimits(d.workspace, { maxSpeed: CRAWL, schedule: [] })
  await waitFor(() => entry(d.workspace, id).bandwidth_cap, 'the worker running at the cap', {
    until: (c) => c === CRAWL
  })
  srv.setFaults(f.path, { holdAt: undefined })
  await setLimits(d.workspace, { maxSpeed: null, schedule: [] })
  await waitForState(d.workspace, id, ['completed'])
  expect(entry(d.workspace, id).downloaded).toBe(f.size)
})

it('splits the cap among the jobs transferring, and a scheduled window lifts it', async () => {
  const d = workspace()
  await setLimits(d.workspace, { maxSpeed: CRAWL * 2, schedule: [] })
  const f = srv.addFile('/hbw/a.safetensors', { size: 32 * MiB })
  const g = srv.addFile('/hbw/b.safetensors', { size: 32 * MiB, seed: 'b' })
  const a = await start(d, f.url, 'a.safetensors')
  const b = await start(d, g.url, 'b.safetensors')
  await waitFor(
    () => [entry(d.workspace, a).bandwidth_cap, entry(d.workspace, b).bandwidth_cap],
    'each worker at half the cap',
    { until: (caps) => caps.every((c) => c === CRAWL) }
  )
  // A window that opens a moment from now (the helper applies absolute windows).
  const opens = Math.ceil(Date.now() / 1000) + 1
  await runHelper('set-limits', {
    workspace: d.workspace,
    limits: {
      ...limitsFileBody({ maxSpeed: CRAWL * 2, schedule: [] }, Date.now()),
      windows: [[opens, opens + 3600, null]]
    }
  })
  await waitForState(d.workspace, a, ['completed'])
  await waitForState(d.workspace, b, ['completed'])
})

it('refuses malformed limits, changing nothing', async () => {
  const d = workspace()
  for (const limits of [
    { version: 2 },
    { version: 1, max_speed: -1, windows: [] },
    { version: 1, max_speed: null, windows: [[1, 2]] }
  ])
    expect(await runHelper('set-limits', { workspace: d.workspace, limits })).toEqual({
      ok: false,
      code: 'bad-request',
      error: 'The bandwidth limits are malformed.'
    })
})
