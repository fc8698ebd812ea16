// `npm run bench`, bandwidth part: how closely a target's cap holds on a
// server much faster than the cap, for the engine and the pod helper, with 1
// and 8 connections and with 3 downloads sharing the cap. Measured on the
// client's side: the bytes the downloads report, sampled after a warm-up over
// a window (the server's own count would include the kernel's socket buffers,
// several MB per paused connection). The downloads are stopped after the
// window. Results go to bench/results-bandwidth.md (its own file: the
// throughput table is rewritten by its bench file). Settings:
// BENCH_CAP_MB (cap, MB/s, default 20), BENCH_CAP_WINDOW_S (default 10),
// BENCH_CAP_WARMUP_S (default 2).
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, it } from 'vitest'
import { startModelServer, type ModelServer } from '../test/harness/modelServer'
import { PYTHON_FLAGS } from '../src/main/ssh/helperClient'
import { runDownload } from '../src/main/engine/download'
import { BandwidthLimiter } from '../src/main/engine/bandwidthLimiter'
import { limitsFileBody } from '../src/main/targets/limitsFile'
import { HELPER_PYZ } from '../scripts/build-helper.mjs'

const ROOT = resolve(__dirname, '..')
const CAP = Number(process.env.BENCH_CAP_MB ?? 20) * 1e6
const WINDOW_S = Number(process.env.BENCH_CAP_WINDOW_S ?? 10)
const WARMUP_S = Number(process.env.BENCH_CAP_WARMUP_S ?? 2)
/** Each file outlasts the window at the full cap, with room to spare. */
const FILE_SIZE = Math.ceil((CAP * (WARMUP_S + WINDOW_S) * 1.5) / 1e6) * 1e6
const PYTHON = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8'
}).stdout.trim()

const rows: { engine: string; case: string; rate: number }[] = []
let srv: ModelServer
let work: string

beforeAll(async () => {
  srv = await startModelServer()
  work = mkdtempSync(join(tmpdir(), 'podpull-capbench-'))
})

afterAll(async () => {
  await srv?.close()
  if (work) rmSync(work, { recursive: true, force: true })
  const mb = (b: number) => (b / 1e6).toFixed(2)
  const lines = [
    `| engine | case | cap MB/s | achieved MB/s over ${WINDOW_S} s | error (goal within ±5 %) |`,
    '|---|---|---:|---:|---:|'
  ]
  for (const r of rows) {
    const err = ((r.rate / CAP - 1) * 100).toFixed(1)
    lines.push(`| ${r.engine} | ${r.case} | ${mb(CAP)} | ${mb(r.rate)} | ${err} % |`)
  }
  const table = lines.join('\n')
  writeFileSync(join(ROOT, 'bench/results-bandwidth.md'), `${table}\n`)
  console.log(`\n${table}\n`)
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const CASES = [
  { name: '1 download, 1 connection', downloads: 1, connections: 1 },
  { name: '1 download, 8 connections', downloads: 1, connections: 8 },
  { name: '3 downloads, 4 connections each', downloads: 3, connections: 4 }
]

it('engine: a 20 MB/s cap on a faster server, 1 and 8 connections, 3 downloads at once', async () => {
  for (const c of CASES) {
    const limiter = new BandwidthLimiter()
    limiter.setRate(CAP)
    const stop = new AbortController()
    const got = Array.from({ length: c.downloads }, () => 0)
    const runs = got.map((_, i) => {
      const f = srv.addFile(`/cap/e-${c.connections}-${i}.bin`, { size: FILE_SIZE, seed: `e${i}` })
      const dir = mkdtempSync(join(work, 'engine-'))
      return runDownload(
        {
          id: `cafe${String(c.connections).padStart(2, '0')}${i}`.padEnd(16, '0'),
          url: f.url,
          finalPath: join(dir, 'cap.bin'),
          connections: c.connections
        },
        {
          signal: stop.signal,
          auth: () => undefined,
          limiter,
          onProgress: (p) => (got[i] = p.downloaded)
        }
      )
    })
    // Sampled every 50 ms: the window's ends are taken at the sampling instants.
    const total = () => got.reduce((a, b) => a + b, 0)
    await sleep(WARMUP_S * 1000)
    const b0 = total()
    const t0 = performance.now()
    await sleep(WINDOW_S * 1000)
    const rate = (total() - b0) / ((performance.now() - t0) / 1000)
    stop.abort('cancel')
    // A download that ended inside the window would make the rate meaningless.
    for (const r of await Promise.all(runs))
      if (r.outcome !== 'cancelled') throw new Error(`engine: ${r.outcome} before the window ended`)
    rows.push({ engine: 'engine', case: c.name, rate })
  }
}, 300_000)

interface Entry {
  id: string
  status: string
  error: string | null
  downloaded: number
  timestamp: number
}

function helperEntries(ws: string): Entry[] {
  try {
    return Object.values(
      JSON.parse(readFileSync(join(ws, '.download_status.json'), 'utf8')) as Record<string, Entry>
    )
  } catch {
    return [] // being replaced: the next look reads it
  }
}

it('helper: a 20 MB/s cap on a faster server, 1 and 8 connections, 3 downloads at once', async () => {
  for (const c of CASES) {
    const ws = join(work, `helper-${c.downloads}-${c.connections}`)
    const models = join(ws, 'ComfyUI', 'models')
    mkdirSync(join(models, 'checkpoints'), { recursive: true })
    const call = (cmd: string, req: Record<string, unknown>) => {
      const r = spawnSync(PYTHON, [...PYTHON_FLAGS, HELPER_PYZ, cmd], {
        input: JSON.stringify(req),
        encoding: 'utf8'
      })
      if (r.status !== 0) throw new Error(`helper ${cmd}: ${r.stderr}`)
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as { id?: string }
    }
    const limits = { maxSpeed: CAP, schedule: [] }
    call('set-limits', { workspace: ws, limits: limitsFileBody(limits, Date.now()) })
    const ids: string[] = []
    for (let i = 0; i < c.downloads; i++) {
      const f = srv.addFile(`/cap/h-${c.connections}-${i}.bin`, { size: FILE_SIZE, seed: `h${i}` })
      const req = {
        workspace: ws,
        models_dir: models,
        url: f.url,
        folder: 'checkpoints',
        filename: `cap-${i}.bin`,
        connections: c.connections,
        tokens: {}
      }
      ids.push(call('start', req).id!)
    }
    // The workers write their entries about once a second, each with its own
    // timestamp: each worker's rate is taken between its own entries.
    const mine = () => helperEntries(ws).filter((e) => ids.includes(e.id))
    // Each end of the window is every worker's first entry written after that
    // instant (an older one may still hold the start's burst).
    const writtenAfter = async (ms: number) => {
      await sleep(ms)
      const at = Date.now() / 1000
      for (;;) {
        const es = mine()
        if (es.length === ids.length && es.every((e) => e.timestamp >= at)) return es
        await sleep(20)
      }
    }
    const first = new Map((await writtenAfter(WARMUP_S * 1000)).map((e) => [e.id, e]))
    let rate = 0
    for (const e of await writtenAfter(WINDOW_S * 1000)) {
      if (e.status === 'error') throw new Error(`helper: ${e.error}`)
      const s = first.get(e.id)
      if (s && e.timestamp > s.timestamp)
        rate += (e.downloaded - s.downloaded) / (e.timestamp - s.timestamp)
    }
    for (const id of ids) call('cancel', { workspace: ws, id })
    // The workers are gone before the workspace is: each entry says cancelled.
    while (mine().some((e) => e.status !== 'cancelled')) await sleep(50)
    rows.push({ engine: 'helper', case: c.name, rate })
  }
}, 300_000)
