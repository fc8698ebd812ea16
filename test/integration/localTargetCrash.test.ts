// A real crash: a separate OS process runs a LocalTarget download and is killed
// with SIGKILL halfway. The next LocalTarget on that workspace finds the entry
// owned by a dead pid, shows it paused and (auto-resume on) finishes it with a
// Range request from where the .part left off.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { build } from 'rolldown'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { DEFAULT_SETTINGS, type DownloadsChangedEvent } from '../../src/shared/types'
import { LocalTarget } from '../../src/main/targets/local/localTarget'
import { storedOwnJobs } from '../../src/main/targets/ownJobs'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { waitFor } from '../support/wait'
import { sidecarDone } from '../support/partFiles'
import { childWithErrorListeners } from '../support/listeners'

const MiB = 1 << 20
let srv: ModelServer
let dir: string
let childJs: string

// The child: one LocalTarget, one download, then it waits to be killed.
const CHILD_SOURCE = `
import { readFileSync, writeFileSync } from 'node:fs'
import { LocalTarget } from ${JSON.stringify(resolve('src/main/targets/local/localTarget.ts'))}
import { storedOwnJobs } from ${JSON.stringify(resolve('src/main/targets/ownJobs.ts'))}
const [comfyui, workspace, url, ownFile] = process.argv.slice(2)
// The jobs it starts are recorded where the test's targets read them (the app's settings file).
const ownJobs = storedOwnJobs(
  () => { try { return JSON.parse(readFileSync(ownFile, 'utf8')) } catch { return {} } },
  (all) => writeFileSync(ownFile, JSON.stringify(all)),
  't1'
)
const settings = { concurrency: 3, connections: 1, retentionHours: 24, staleMinutes: 10,
  autoResume: false, notifications: false }
const t = new LocalTarget({ id: 't1', name: 'crash', config: { kind: 'local', comfyui, workspace } },
  { settings: () => settings, ownJobs, auth: () => undefined, authHint: () => undefined })
await t.open()
const r = await t.start({ url, folder: 'vae' })
process.stdout.write(JSON.stringify(r) + '\\n')
setInterval(() => undefined, 1000)
`

beforeAll(async () => {
  srv = await startModelServer()
  dir = await mkdtemp(join(tmpdir(), 'podpull-crash-'))
  const src = join(dir, 'child.ts')
  await writeFile(src, CHILD_SOURCE)
  childJs = join(dir, 'child.mjs')
  await build({
    input: src,
    platform: 'node',
    // One file: the engine loads undici with a dynamic import.
    output: { file: childJs, format: 'esm', codeSplitting: false },
    logLevel: 'silent'
  })
})
afterAll(async () => {
  await srv?.close()
  await rm(dir, { recursive: true, force: true })
})

/** Runs the child until half of `size` is served (the file is held there) and its
 *  sidecar records it, then kills it with SIGKILL. */
async function crashHalfway(
  ws: string,
  url: string,
  path: string,
  size: number,
  beforeKill: (started: { id: string }) => Promise<unknown> = async () => undefined
) {
  const comfyui = join(ws, 'ComfyUI')
  await mkdir(join(comfyui, 'models'), { recursive: true })
  const child = childWithErrorListeners(
    spawn(process.execPath, [childJs, comfyui, ws, url, ownFile(ws)], {
      stdio: ['ignore', 'pipe', 'inherit']
    })
  )
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise((r) => child.once('exit', r))
  await waitFor(() => srv.bytesServed(path), 'half the file', { until: (n) => n >= size / 2 })
  await waitFor(() => out.trim() && sidecarDone(`${JSON.parse(out).path}.part.json`), 'a sidecar', {
    until: (n) => Number(n) >= size / 2,
    ms: 30_000
  })
  // The status file is written about once a second, after the sidecar: wait for
  // the row a user would see (the transfer is held at half, so it stays there).
  const key = (JSON.parse(out.trim()) as { path: string }).path
  await waitFor(() => statusText(ws), 'the status file to say downloading', {
    until: (t) => (JSON.parse(t || '{}')[key]?.status ?? '') === 'downloading',
    ms: 30_000
  })
  await beforeKill(JSON.parse(out.trim()) as { id: string })
  child.kill('SIGKILL')
  await exited
  await waitFor(() => srv.openResponses(path) === 0, 'the killed request closed')
  return { started: JSON.parse(out.trim()) as { id: string; path: string }, pid: child.pid! }
}

function statusText(ws: string): string {
  try {
    return readFileSync(join(ws, '.download_status.json'), 'utf8')
  } catch {
    return ''
  }
}

/** Where the child and the test's targets keep the jobs "this PodPull" started. */
const ownFile = (ws: string): string => join(dirname(ws), `${basename(ws)}.own.json`)

function newTarget(ws: string, autoResume: boolean) {
  const target = new LocalTarget(
    {
      id: 't1',
      name: 'crash',
      config: { kind: 'local', comfyui: join(ws, 'ComfyUI'), workspace: ws }
    },
    {
      settings: () => ({ ...DEFAULT_SETTINGS, connections: 1, autoResume }),
      ownJobs: storedOwnJobs(
        () => (existsSync(ownFile(ws)) ? JSON.parse(readFileSync(ownFile(ws), 'utf8')) : {}),
        (all) => writeFileSync(ownFile(ws), JSON.stringify(all)),
        't1'
      ),
      auth: () => undefined,
      authHint: () => undefined
    }
  )
  const events: DownloadsChangedEvent[] = []
  target.on('downloads', (e) => events.push(e))
  return { target, events }
}

it('after a SIGKILL the job shows paused and resumes by itself to completion with Range', async () => {
  const ws = join(dir, 'auto')
  const size = 8 * MiB
  const f = srv.addFile('/crash/auto.safetensors', { size, seed: 'crash', holdAt: size / 2 })
  const { started, pid } = await crashHalfway(ws, f.url, f.path, size)
  const before = JSON.parse(await readFile(join(ws, '.download_status.json'), 'utf8'))
  expect(before[started.path]).toMatchObject({ status: 'downloading', owner: { pid } })
  expect(existsSync(`${started.path}.part`)).toBe(true)
  const sidecar = JSON.parse(await readFile(`${started.path}.part.json`, 'utf8')) as {
    segments: { start: number; done: number }[]
  }
  const kept = sidecar.segments[0]!.start + sidecar.segments[0]!.done
  expect(kept).toBeGreaterThan(0)

  srv.setFaults(f.path, { holdAt: undefined })
  const requestsBefore = srv.requestsFor(f.path).length
  const servedBefore = srv.bytesServed(f.path)
  const { target, events } = newTarget(ws, true)
  await target.open()
  try {
    const states = () =>
      events
        .flatMap((e) => e.upserts)
        .filter((r) => r.id === started.id)
        .map((r) => r.state)
    // Up to 30 s: if the kill hit while the child held the status lock, the lock
    // only becomes stale (and is taken over) after 10 s, as the protocol says.
    await waitFor(states, 'completed', { until: (s) => s.includes('completed'), ms: 30_000 })
    expect(states()[0]).toBe('paused') // shown paused first, then taken up again
    expect(states()).toContain('downloading')
    const body = readFileSync(started.path)
    expect(createHash('sha256').update(body).digest('hex')).toBe(f.sha256)
    // It went on from where the sidecar said the .part was good, and fetched only the rest.
    const ranges = srv
      .requestsFor(f.path)
      .slice(requestsBefore)
      .map((r) => String(r.headers.range ?? ''))
    expect(ranges).toContain(`bytes=${kept}-${size - 1}`)
    expect(srv.bytesServed(f.path) - servedBefore).toBeLessThanOrEqual(size - kept + 1)
    const after = (await target.rawStatus())[started.path]
    expect(after).toMatchObject({ status: 'completed', owner: null, progress: 100 })
    expect(existsSync(`${started.path}.part`)).toBe(false)
  } finally {
    await target.close()
  }
})

it('with auto-resume off the crashed job waits, paused and resumable', async () => {
  const ws = join(dir, 'manual')
  const size = 8 * MiB
  const f = srv.addFile('/crash/manual.safetensors', { size, seed: 'man', holdAt: size / 2 })
  const { started } = await crashHalfway(ws, f.url, f.path, size)
  const { target } = newTarget(ws, false)
  await target.open()
  try {
    const served = srv.bytesServed(f.path)
    expect(target.downloads().find((r) => r.id === started.id)?.state).toBe('paused')
    const file = join(ws, '.download_status.json')
    const disk = async () => JSON.parse(await readFile(file, 'utf8'))[started.path]
    // A lock left by the killed child is taken over after 10 s at most.
    const entry = (await waitFor(disk, 'paused on disk', {
      until: (e: Record<string, unknown>) => e.status === 'paused',
      ms: 30_000
    })) as Record<string, unknown>
    expect(entry).toMatchObject({ status: 'paused', resumable: true, owner: null })
    expect(srv.bytesServed(f.path)).toBe(served)
  } finally {
    await target.close()
  }
})

it('an open target takes over a download whose process dies while it watches', async () => {
  const ws = join(dir, 'live')
  const size = 8 * MiB
  const f = srv.addFile('/crash/live.safetensors', { size, seed: 'live', holdAt: size / 2 })
  await mkdir(join(ws, 'ComfyUI', 'models'), { recursive: true })
  const { target, events } = newTarget(ws, true)
  await target.open()
  try {
    const statesOf = (id: string) =>
      events
        .flatMap((e) => e.upserts)
        .filter((r) => r.id === id)
        .map((r) => r.state)
    // Killed only once this target has seen the other process download it.
    const { started } = await crashHalfway(ws, f.url, f.path, size, (s) =>
      waitFor(() => statesOf(s.id).includes('downloading'), 'the watch showing it downloading')
    )
    srv.setFaults(f.path, { holdAt: undefined })
    const states = () => statesOf(started.id)
    await waitFor(states, 'completed', { until: (s) => s.includes('completed'), ms: 30_000 })
    // It watched the other process download, then saw it stop and took over.
    expect(states().indexOf('downloading')).toBeLessThan(states().indexOf('paused'))
    expect(createHash('sha256').update(readFileSync(started.path)).digest('hex')).toBe(f.sha256)
  } finally {
    await target.close()
  }
})
