// `npm run bench`: PodPull's engine and pod helper against curl and aria2c in
// one run, on this machine, over loopback. Prints one table and writes
// bench/results.json. Not a test: nothing here passes or fails on timing,
// except that every download must produce the right bytes.
import { afterAll, beforeAll, it } from 'vitest'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startModelServer, type ModelServer } from '../test/harness/modelServer'
import { startHubServers } from '../test/harness/hubServer'
import { startSshd, type SshdHarness } from '../test/harness/sshd'
import { PYTHON_FLAGS } from '../src/main/ssh/helperClient'
import { runDownload } from '../src/main/engine/download'
import { startNginx } from './nginx'
import { HELPER_PYZ } from '../scripts/build-helper.mjs'

const ROOT = resolve(__dirname, '..')
const CLI = join(ROOT, 'bin/podpull')
// The built zipapp, as the app uploads it (the vitest global setup builds it).
const HELPER = HELPER_PYZ
// The interpreter itself, as a pod runs it (ssh's `python3` is a binary
// there): a version-manager shim (pyenv's costs ~0.25 s a start here) would
// be timed as the helper's.
const PYTHON = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8'
}).stdout.trim()
const GiB = 1 << 30
const MiB = 1 << 20
const BIG = Number(process.env.BENCH_BIG_GIB ?? 8) * GiB
const PLAIN = Number(process.env.BENCH_PLAIN_GIB ?? 2) * GiB
const THROTTLED = Number(process.env.BENCH_THROTTLED_MIB ?? 512) * MiB
const PER_CONN = Number(process.env.BENCH_PER_CONN_MIB ?? 16) * MiB
/** Each of the set row's four files. */
const SET_FILE = Number(process.env.BENCH_SET_MIB ?? 128) * MiB

interface Row {
  case: string
  tool: string
  seconds: number
  mbps: number
  note?: string
}
const rows: Row[] = []
const extra: Record<string, string> = {}
let srv: ModelServer
let work: string

beforeAll(async () => {
  for (const bin of ['curl', 'aria2c', 'nginx', 'openssl', '/usr/bin/time']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0)
      throw new Error(`${bin} is missing: bench/run.sh installs it`)
  }
  if (!existsSync(join(ROOT, 'out/main/cli.js'))) throw new Error('Build first: npm run build')
  srv = await startModelServer()
  work = mkdtempSync(join(tmpdir(), 'podpull-bench-'))
})

afterAll(async () => {
  await srv?.close()
  if (work) rmSync(work, { recursive: true, force: true })
  printTable()
})

interface RunOptions {
  env?: NodeJS.ProcessEnv
  input?: string
  /** Count the process's CPU (user + sys) through /usr/bin/time (peakRss is then time's own). */
  cpu?: boolean
}

async function run(
  cmd: string,
  args: string[],
  opts: RunOptions = {}
): Promise<{ code: number; seconds: number; peakRss: number; out: string; cpu: number }> {
  if (!opts.cpu) return { ...(await spawnTimed(cmd, args, opts)), cpu: NaN }
  const file = join(work, `cpu-${Date.now()}-${Math.random()}.txt`)
  const r = await spawnTimed('/usr/bin/time', ['-f', '%U %S', '-o', file, cmd, ...args], opts)
  const [user, sys] = readFileSync(file, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
  rmSync(file, { force: true })
  return { ...r, cpu: user! + sys! }
}

function spawnTimed(
  cmd: string,
  args: string[],
  opts: RunOptions
): Promise<{ code: number; seconds: number; peakRss: number; out: string }> {
  const t0 = performance.now()
  const child = spawn(cmd, args, {
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  if (opts.input !== undefined) child.stdin!.end(opts.input)
  else child.stdin!.end()
  let peakRss = 0
  const poll = setInterval(() => (peakRss = Math.max(peakRss, rssOf(child))), 50)
  return new Promise((res) => {
    child.on('exit', (code) => {
      clearInterval(poll)
      res({ code: code ?? -1, seconds: (performance.now() - t0) / 1000, peakRss, out })
    })
  })
}

function rssOf(child: ChildProcess): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB }))
    h.update(chunk as Buffer)
  return h.digest('hex')
}

function freshComfy(name: string): { home: string; comfy: string; models: string } {
  const base = join(work, name)
  rmSync(base, { recursive: true, force: true })
  const comfy = join(base, 'ComfyUI')
  const models = join(comfy, 'models')
  mkdirSync(join(models, 'checkpoints'), { recursive: true })
  const home = join(base, 'home')
  mkdirSync(home, { recursive: true })
  return { home, comfy, models }
}

async function engineDownload(
  url: string,
  connections: number,
  label: string,
  more: { env?: NodeJS.ProcessEnv; cpu?: boolean; sha256?: string } = {}
) {
  const { home, comfy, models } = freshComfy(label)
  const env = { PODPULL_HOME: home, ...more.env }
  const add = await run(CLI, ['targets', 'add-local', 'bench', '--comfyui', comfy], { env })
  if (add.code !== 0) throw new Error(add.out)
  const r = await run(
    CLI,
    [
      'download',
      url,
      '--target',
      'bench',
      '--folder',
      'checkpoints',
      '--filename',
      'model.bin',
      '--connections',
      String(connections),
      ...(more.sha256 ? ['--sha256', more.sha256] : [])
    ],
    { env, cpu: more.cpu }
  )
  if (r.code !== 0) throw new Error(`engine failed: ${r.out}`)
  const file = join(models, 'checkpoints', 'model.bin')
  // The job's own clock (queued → installed), without the CLI process around it.
  const status = JSON.parse(
    readFileSync(join(comfy, '..', '.download_status.json'), 'utf8')
  ) as Record<string, { start_time: number; timestamp: number }>
  const entry = Object.entries(status).find(([k]) => k.endsWith('/checkpoints/model.bin'))?.[1]
  const jobSeconds = entry ? entry.timestamp - entry.start_time : NaN
  return { ...r, file, jobSeconds }
}

async function curl(url: string, extraArgs: string[] = []) {
  const file = join(work, 'curl.bin')
  rmSync(file, { force: true })
  const r = await run('curl', ['-sS', '-f', ...extraArgs, '-o', file, url], { cpu: true })
  if (r.code !== 0) throw new Error(r.out)
  return { ...r, file }
}

async function aria2c(url: string, extraArgs: string[] = []) {
  const dir = join(work, 'aria')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir)
  const r = await run(
    'aria2c',
    [
      ...extraArgs,
      '-q',
      '-x8',
      '-s8',
      '-k1M',
      '--file-allocation=none',
      '--allow-overwrite=true',
      '-d',
      dir,
      '-o',
      'aria.bin',
      url
    ],
    { cpu: true }
  )
  if (r.code !== 0) throw new Error(r.out)
  return { ...r, file: join(dir, 'aria.bin') }
}

function record(c: string, tool: string, seconds: number, size: number, note?: string): number {
  const mbps = size / seconds / 1e6
  rows.push({ case: c, tool, seconds, mbps, note })
  return mbps
}

async function check(file: string, sha: string, who: string): Promise<void> {
  const got = await sha256File(file)
  if (got !== sha) throw new Error(`${who} produced wrong bytes`)
  rmSync(file, { force: true })
}

it('one connection, loopback: engine vs curl', async () => {
  const f = srv.addFile('/bench/plain.bin', { size: PLAIN, seed: 'plain' })
  // Page-cache writeback from the previous run can land on either tool: take
  // turns, sync before each, and keep each tool's best of two.
  let c: Awaited<ReturnType<typeof curl>> | undefined
  let e: Awaited<ReturnType<typeof engineDownload>> | undefined
  for (let round = 0; round < 2; round++) {
    spawnSync('sync')
    const ci = await curl(f.url)
    await check(ci.file, f.sha256, 'curl')
    if (!c || ci.seconds < c.seconds) c = ci
    spawnSync('sync')
    const ei = await engineDownload(f.url, 1, `one${round}`)
    await check(ei.file, f.sha256, 'engine')
    if (!e || ei.seconds < e.seconds) e = ei
  }
  if (!c || !e) throw new Error('no rounds ran')
  const cm = record(`${PLAIN / GiB} GiB, 1 connection`, 'curl', c.seconds, PLAIN)
  const em = record(
    `${PLAIN / GiB} GiB, 1 connection`,
    'podpull CLI (whole process)',
    e.seconds,
    PLAIN
  )
  const jm = record(
    `${PLAIN / GiB} GiB, 1 connection`,
    'podpull engine (job: queued → installed)',
    e.jobSeconds,
    PLAIN
  )
  extra['engine / curl (1 conn, budget ≥ 0.95): whole CLI process'] = (em / cm).toFixed(2)
  extra['engine / curl (1 conn): the job alone, without Node start-up'] = (jm / cm).toFixed(2)
}, 600_000)

it('a set of 4 files on one target vs aria2c -i list -j 4 -x 8 (throttled)', async () => {
  const files = [0, 1, 2, 3].map((i) =>
    srv.addFile(`/bench/set-${i}.bin`, { size: SET_FILE, seed: `set${i}`, throttleBps: PER_CONN })
  )
  const total = SET_FILE * files.length
  const label = `set: 4 × ${SET_FILE / MiB} MiB at ${PER_CONN / MiB} MiB/s per connection`
  const dir = join(work, 'aria-set')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir)
  const list = join(work, 'aria-set.txt')
  writeFileSync(list, files.map((f, i) => `${f.url}\n  out=set-${i}.bin\n`).join(''))
  const a = await run(
    'aria2c',
    [
      '-q',
      '-i',
      list,
      '-j',
      '4',
      '-x',
      '8',
      '-s',
      '8',
      '-k1M',
      '--file-allocation=none',
      '-d',
      dir
    ],
    { cpu: true }
  )
  if (a.code !== 0) throw new Error(a.out)
  for (const [i, f] of files.entries()) await check(join(dir, `set-${i}.bin`), f.sha256, 'aria2c')

  const { home, comfy, models } = freshComfy('set')
  const env = { PODPULL_HOME: home }
  const add = await run(CLI, ['targets', 'add-local', 'bench', '--comfyui', comfy], { env })
  if (add.code !== 0) throw new Error(add.out)
  const setFile = join(work, 'bench.podpull.json')
  writeFileSync(
    setFile,
    JSON.stringify({
      format: 'podpull-model-set',
      version: 1,
      name: 'bench',
      models: files.map((f, i) => ({
        source: { kind: 'url', url: f.url },
        folder: 'checkpoints',
        name: `set-${i}.bin`,
        sha256: f.sha256
      }))
    })
  )
  const p = await run(CLI, ['sets', 'apply', setFile, '--target', 'bench'], { env, cpu: true })
  if (p.code !== 0) throw new Error(`sets apply failed: ${p.out}`)
  for (const [i, f] of files.entries())
    await check(join(models, 'checkpoints', `set-${i}.bin`), f.sha256, 'sets apply')
  const am = record(label, 'aria2c -i list -j 4 -x 8', a.seconds, total)
  const pm = record(label, 'podpull sets apply (whole process)', p.seconds, total)
  extra['set of 4: podpull time / aria2c time (goal ≤ 1.0)'] = (am / pm).toFixed(2)
}, 600_000)

it('eight connections, per-connection throttle: engine vs aria2c vs curl', async () => {
  const f = srv.addFile('/bench/throttled.bin', {
    size: THROTTLED,
    seed: 'thr',
    throttleBps: PER_CONN
  })
  const label = `${THROTTLED / MiB} MiB at ${PER_CONN / MiB} MiB/s per connection`
  const c = await curl(f.url)
  await check(c.file, f.sha256, 'curl')
  const a = await aria2c(f.url)
  await check(a.file, f.sha256, 'aria2c')
  const e = await engineDownload(f.url, 8, 'eight')
  await check(e.file, f.sha256, 'engine')
  record(label, 'curl', c.seconds, THROTTLED)
  const am = record(label, 'aria2c -x8 -s8', a.seconds, THROTTLED)
  const em = record(label, 'podpull CLI -c 8 (whole process)', e.seconds, THROTTLED)
  const jm = record(label, 'podpull engine -c 8 (job: queued → installed)', e.jobSeconds, THROTTLED)
  extra['engine / aria2c (8 conn, budget ≥ 1.0): whole CLI process'] = (em / am).toFixed(2)
  extra['engine / aria2c (8 conn): the job alone'] = (jm / am).toFixed(2)
}, 600_000)

it('memory: peak RSS of the engine process on a big file', async () => {
  const f = srv.addFile('/bench/big.bin', { size: BIG, seed: 'big' })
  const small = srv.addFile('/bench/tiny.bin', { size: MiB, seed: 'tiny' })
  const base = await engineDownload(small.url, 8, 'tiny')
  const e = await engineDownload(f.url, 8, 'big')
  rmSync(e.file, { force: true })
  const growth = (e.peakRss - base.peakRss) / MiB
  extra[`peak RSS, ${BIG / GiB} GiB download (baseline 1 MiB download)`] =
    `${(e.peakRss / MiB).toFixed(0)} MiB (baseline ${(base.peakRss / MiB).toFixed(0)} MiB, growth ${growth.toFixed(0)} MiB; budget < 150)`
  record(`${BIG / GiB} GiB, 8 connections`, 'podpull engine -c 8', e.seconds, BIG)
}, 900_000)

it('kill -9 at 50 %, then resume: bytes fetched', async () => {
  const size = Number(process.env.BENCH_KILL_MIB ?? 256) * MiB
  // The server holds every response at half the file (a gate, not a timer): the
  // kill comes once the sidecar records all that was sent, while the gate is shut.
  const f = srv.addFile('/bench/kill.bin', {
    size,
    seed: 'kill',
    throttleBps: 32 * MiB,
    holdAt: size / 2
  })
  const { home, comfy, models } = freshComfy('kill')
  const env = { ...process.env, PODPULL_HOME: home }
  await run(CLI, ['targets', 'add-local', 'bench', '--comfyui', comfy], { env })
  const args = [
    'download',
    f.url,
    '--target',
    'bench',
    '--folder',
    'checkpoints',
    '--filename',
    'kill.bin',
    '--connections',
    '4'
  ]
  const child = spawn(CLI, args, { env, stdio: 'ignore' })
  const exited = new Promise((res, rej) => {
    child.on('exit', res)
    child.on('error', rej)
  })
  const part = join(models, 'checkpoints', 'kill.bin.part.json')
  await until(() => sidecarDone(part) >= size / 2)
  child.kill('SIGKILL')
  await exited
  // Opened only once the server saw the killed connections go (else it would
  // count bytes sent into dead sockets).
  await until(() => srv.openResponses('/bench/kill.bin') === 0)
  srv.setFaults('/bench/kill.bin', { throttleBps: undefined, holdAt: undefined })
  const r = await run(CLI, ['resume', '--target', 'bench', ...(await jobIdOf(home, env))], { env })
  if (r.code !== 0) throw new Error(r.out)
  await check(join(models, 'checkpoints', 'kill.bin'), f.sha256, 'engine after kill -9')
  extra['bytes fetched after kill -9 at 50 % + resume (budget ≤ 1.02)'] =
    `${(srv.bytesServed('/bench/kill.bin') / size).toFixed(3)}× the size`
}, 600_000)

it('Hugging Face links that live 1.5 s, connections cut every 4 MB: resolves and bytes', async () => {
  // A 25 MB file behind the loopback Hub's Xet bridge CDN (127.0.0.2), paced so
  // the download outlives several links; budget: ≤ 10 resolves, ≤ 1.10× the size.
  const hub = await startHubServers(srv)
  const size = Number(process.env.BENCH_HUB_MB ?? 25) * 1_000_000
  const hubHost = new URL(hub.hfUrl).host
  try {
    for (const who of ['engine', 'helper'] as const) {
      const f = srv.addFile(`/bench/hub-${who}.bin`, { size, seed: `hub-${who}` })
      hub.addRepo({ id: `bench/${who}`, xet: true, files: [{ path: 'model.bin', cdn: f }] })
      hub.xet.configure({
        linkLifeMs: 1500,
        expiresInLink: true,
        cutEvery: 4_000_000,
        throttleBps: 2_500_000
      })
      const url = `${hub.hfUrl}/bench/${who}/resolve/main/model.bin`
      const before = hub.log.length
      let file: string
      if (who === 'engine') {
        const env = { HF_ENDPOINT: hub.hfUrl, PODPULL_HF_HOSTS: hubHost }
        file = (await engineDownload(url, 4, 'hub', { env })).file
      } else {
        const { ws, models } = helperWorkspace('hub')
        const req = { token_hosts: { hf: [hubHost] }, retry_base_s: 0.05 }
        file = (await helperDownload(ws, models, url, 4, 'model.bin', { req })).file
      }
      await check(file, f.sha256, `${who} via the Hub`)
      const resolves = hub.log.slice(before).filter((q) => q.path.includes('/resolve/')).length
      extra[
        `HF links living 1.5 s, cut every 4 MB, ${who}: resolves (budget ≤ 10); bytes (≤ 1.10×)`
      ] = `${resolves}; ${(hub.xet.bytesServed(f) / size).toFixed(3)}× the size`
    }
  } finally {
    await hub.close()
  }
}, 300_000)

function sidecarDone(file: string): number {
  try {
    const side = JSON.parse(readFileSync(file, 'utf8')) as { segments: { done: number }[] }
    return side.segments.reduce((n, s) => n + s.done, 0)
  } catch {
    return 0 // not written yet
  }
}

/** Resolves once `ok()` holds (a state the bench waits on, looked at every 20 ms). */
function until(ok: () => boolean): Promise<void> {
  return new Promise((res) => {
    const t = setInterval(() => {
      if (!ok()) return
      clearInterval(t)
      res()
    }, 20)
  })
}

async function jobIdOf(home: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const r = await run(CLI, ['status', '--json'], { env: { ...env, PODPULL_HOME: home } })
  const list = JSON.parse(r.out) as { id: string }[]
  return [list[0]!.id]
}

interface HelperEntry {
  id: string
  status: string
  error: string | null
  timestamp: number
  owner: { pid: number } | null
}

/** CPU seconds (user + sys, all threads) of a live process, from /proc. */
function cpuOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / 100 // utime, stime in USER_HZ ticks
  } catch {
    return undefined
  }
}

/**
 * One helper download, as on a pod: `start`, then the detached worker.
 * Timed from before python starts to the completion time the helper wrote in
 * its entry; the status file is read directly (no python per poll, so the
 * polling costs the download almost nothing). CPU is the worker's, sampled
 * from /proc every 20 ms until it exits (the short `start` process is not
 * counted). `verifying` is the time from the first `verifying` state seen to
 * completion (20 ms resolution).
 */
async function helperDownload(
  ws: string,
  models: string,
  url: string,
  connections: number,
  name: string,
  more: { env?: NodeJS.ProcessEnv; sha256?: string; req?: Record<string, unknown> } = {}
): Promise<{ seconds: number; file: string; cpu: number; verifySeconds: number }> {
  const t0 = Date.now() / 1000
  const req = {
    workspace: ws,
    models_dir: models,
    url,
    folder: 'checkpoints',
    filename: name,
    connections,
    tokens: {},
    ...(more.sha256 ? { sha256: more.sha256 } : {}),
    ...more.req
  }
  const s = await run(PYTHON, [...PYTHON_FLAGS, HELPER, 'start'], {
    input: JSON.stringify(req),
    env: more.env
  })
  const id = (JSON.parse(s.out.trim().split('\n').pop()!) as { id: string }).id
  let cpu = 0
  let pid: number | undefined
  let verifyingAt: number | undefined
  for (;;) {
    let entry: HelperEntry | undefined
    try {
      const all = JSON.parse(readFileSync(join(ws, '.download_status.json'), 'utf8')) as Record<
        string,
        HelperEntry
      >
      entry = Object.values(all).find((e) => e.id === id)
    } catch {
      // being replaced: read again
    }
    pid ??= entry?.owner?.pid
    if (pid !== undefined) cpu = cpuOf(pid) ?? cpu
    if (entry?.status === 'verifying') verifyingAt ??= Date.now() / 1000
    if (entry?.status === 'completed') {
      while (pid !== undefined && cpuOf(pid) !== undefined) {
        cpu = cpuOf(pid) ?? cpu
        await new Promise((r) => setTimeout(r, 20))
      }
      return {
        seconds: entry.timestamp - t0,
        file: join(models, 'checkpoints', name),
        cpu,
        verifySeconds: verifyingAt === undefined ? 0 : Math.max(0, entry.timestamp - verifyingAt)
      }
    }
    if (entry?.status === 'error') throw new Error(`helper: ${entry.error}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function helperWorkspace(name: string): { ws: string; models: string } {
  const ws = join(work, name)
  rmSync(ws, { recursive: true, force: true })
  const models = join(ws, 'ComfyUI', 'models')
  mkdirSync(join(models, 'checkpoints'), { recursive: true })
  return { ws, models }
}

it('pod helper: one connection vs curl, eight vs aria2c, progress latency over sshd', async () => {
  const plain = srv.addFile('/bench/helper-plain.bin', { size: PLAIN / 2, seed: 'hp' })
  const thr = srv.addFile('/bench/helper-thr.bin', {
    size: THROTTLED,
    seed: 'ht',
    throttleBps: PER_CONN
  })
  const { ws, models } = helperWorkspace('helper-ws')
  const helper = (url: string, connections: number, name: string) =>
    helperDownload(ws, models, url, connections, name)
  // As for the engine: take turns, sync before each, best of two.
  let c: Awaited<ReturnType<typeof curl>> | undefined
  let h1: Awaited<ReturnType<typeof helper>> | undefined
  for (let round = 0; round < 2; round++) {
    spawnSync('sync')
    const ci = await curl(plain.url)
    await check(ci.file, plain.sha256, 'curl')
    if (!c || ci.seconds < c.seconds) c = ci
    spawnSync('sync')
    const hi = await helper(plain.url, 1, `h1-${round}.bin`)
    await check(hi.file, plain.sha256, 'helper')
    if (!h1 || hi.seconds < h1.seconds) h1 = hi
  }
  if (!c || !h1) throw new Error('no rounds ran')
  const label1 = `${PLAIN / 2 / GiB} GiB, 1 connection`
  const cm = record(label1, 'curl', c.seconds, PLAIN / 2)
  const hm = record(label1, 'podpull helper', h1.seconds, PLAIN / 2)
  extra['helper / curl (1 conn, budget ≥ 0.9)'] = (hm / cm).toFixed(2)
  const a = await aria2c(thr.url)
  await check(a.file, thr.sha256, 'aria2c')
  const h8 = await helper(thr.url, 8, 'h8.bin')
  await check(h8.file, thr.sha256, 'helper')
  const label8 = `${THROTTLED / MiB} MiB at ${PER_CONN / MiB} MiB/s per connection`
  const am = record(label8, 'aria2c -x8 -s8', a.seconds, THROTTLED)
  const h8m = record(label8, 'podpull helper -c 8', h8.seconds, THROTTLED)
  extra['helper / aria2c (8 conn, budget ≥ 1.0)'] = (h8m / am).toFixed(2)
  extra['pod progress latency over sshd (median, budget ≤ 1 s)'] = await podLatency()
}, 900_000)

const TLS_SIZE = Number(process.env.BENCH_TLS_GIB ?? 1) * GiB
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

it('HTTPS from nginx: engine and helper vs curl (1 conn) and aria2c -x8 (throttled), CPU per GiB', async () => {
  const ngx = await startNginx(PER_CONN)
  try {
    const trust = { NODE_EXTRA_CA_CERTS: ngx.cert.certPath, SSL_CERT_FILE: ngx.cert.certPath }
    const curlCa = ['--cacert', ngx.cert.certPath]
    const ariaCa = [`--ca-certificate=${ngx.cert.certPath}`]
    const f = ngx.addFile('tls-plain.bin', TLS_SIZE, 'tls')
    const t = ngx.addFile('tls-thr.bin', THROTTLED, 'tlsthr')
    const { ws, models } = helperWorkspace('tls-helper-ws')
    type Best = { seconds: number; cpu: number }
    const best: Record<string, Best> = {}
    const keep = (k: string, r: Best) => {
      if (!best[k] || r.seconds < best[k]!.seconds) best[k] = { seconds: r.seconds, cpu: r.cpu }
    }
    const cpuMin: Record<string, number> = {}
    const keepCpu = (k: string, cpu: number) => (cpuMin[k] = Math.min(cpuMin[k] ?? Infinity, cpu))
    // Turns, a sync before each, best of ROUNDS: the machine is shared. On
    // these VMs the kernel hands freed memory back to the host, and the next
    // run that touches it pays for it (the same 1 GiB write measured 0.6 to
    // 2.9 s of system time): each round starts with another tool, so none
    // always follows the same predecessor.
    const oneConn: Record<string, (round: number) => Promise<void>> = {
      curl: async () => {
        const c = await curl(f.url, curlCa)
        await check(c.file, f.sha256, 'curl over TLS')
        keep('curl', c)
        keepCpu('curl', c.cpu)
      },
      engine: async (round) => {
        const e = await engineDownload(f.url, 1, `tls1-${round}`, { env: trust, cpu: true })
        await check(e.file, f.sha256, 'engine over TLS')
        keep('engine', e)
        keepCpu('engine', e.cpu)
      },
      helper: async (round) => {
        const h = await helperDownload(ws, models, f.url, 1, `tls-h1-${round}.bin`, { env: trust })
        await check(h.file, f.sha256, 'helper over TLS')
        keep('helper', h)
        keepCpu('helper', h.cpu)
      }
    }
    const tools = Object.keys(oneConn)
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < tools.length; i++) {
        spawnSync('sync')
        await oneConn[tools[(round + i) % tools.length]!]!(round)
      }
    }
    for (let round = 0; round < Math.min(ROUNDS, 3); round++) {
      const a = await aria2c(t.throttledUrl, ariaCa)
      await check(a.file, t.sha256, 'aria2c over TLS')
      keep('aria2c', a)
      keepCpu('aria2c', a.cpu)
      const e = await engineDownload(t.throttledUrl, 8, `tls8-${round}`, { env: trust, cpu: true })
      await check(e.file, t.sha256, 'engine -c 8 over TLS')
      keep('engine8', e)
      const h = await helperDownload(ws, models, t.throttledUrl, 8, `tls-h8-${round}.bin`, {
        env: trust
      })
      await check(h.file, t.sha256, 'helper -c 8 over TLS')
      keep('helper8', h)
    }
    const one = `HTTPS ${TLS_SIZE / GiB} GiB, 1 connection`
    const eight = `HTTPS ${THROTTLED / MiB} MiB at ${PER_CONN / MiB} MiB/s per connection`
    const cm = record(one, 'curl', best.curl!.seconds, TLS_SIZE)
    const em = record(one, 'podpull CLI (whole process)', best.engine!.seconds, TLS_SIZE)
    const hm = record(one, 'podpull helper', best.helper!.seconds, TLS_SIZE)
    const am = record(eight, 'aria2c -x8 -s8', best.aria2c!.seconds, THROTTLED)
    const e8 = record(eight, 'podpull CLI -c 8 (whole process)', best.engine8!.seconds, THROTTLED)
    const h8 = record(eight, 'podpull helper -c 8', best.helper8!.seconds, THROTTLED)
    extra['HTTPS engine / curl (1 conn, budget ≥ 0.95): whole CLI process'] = (em / cm).toFixed(2)
    extra['HTTPS engine / aria2c (8 conn, budget ≥ 1.0): whole CLI process'] = (e8 / am).toFixed(2)
    extra['HTTPS helper / curl (1 conn, budget ≥ 0.9)'] = (hm / cm).toFixed(2)
    extra['HTTPS helper / aria2c (8 conn, budget ≥ 1.0)'] = (h8 / am).toFixed(2)
    const perGiB = (k: string) => cpuMin[k]! / (TLS_SIZE / GiB)
    const curlCpu = perGiB('curl')
    for (const [k, who] of [
      ['curl', 'curl'],
      ['engine', 'podpull CLI (whole process)'],
      ['helper', 'podpull helper (worker)']
    ] as const)
      extra[`HTTPS CPU s/GiB, 1 conn: ${who} (least of ${ROUNDS})`] =
        `${perGiB(k).toFixed(2)}` +
        (k === 'curl' ? '' : ` (${(perGiB(k) / curlCpu).toFixed(2)}× curl's, budget ≤ 1.5)`)
    extra['HTTPS CPU s/GiB, aria2c -x8 (throttled)'] = (cpuMin.aria2c! / (THROTTLED / GiB)).toFixed(
      2
    )
  } finally {
    await ngx.close()
  }
}, 1_800_000)

it('verify time after an 8 GiB download, 1 connection, sha256 given: engine and helper', async () => {
  const size = BIG
  const f = srv.addFile('/bench/verify.bin', { size, seed: 'verify' })
  const dir = mkdtempSync(join(work, 'verify-'))
  const finalPath = join(dir, 'verify.bin')
  const states: { state: string; at: number }[] = []
  const ctl = new AbortController()
  const t0 = performance.now()
  const res = await runDownload(
    { id: 'b0b0b0b0b0b0b0b0', url: f.url, finalPath, connections: 1, sha256: f.sha256 },
    {
      signal: ctl.signal,
      auth: () => undefined,
      onProgress: (p) => {
        if (states.at(-1)?.state !== p.state) states.push({ state: p.state, at: performance.now() })
      }
    }
  )
  const t1 = performance.now()
  if (res.outcome !== 'completed' || res.sha256 !== f.sha256) throw new Error('engine: wrong bytes')
  rmSync(finalPath, { force: true })
  const verifyAt = states.find((s) => s.state === 'verifying')?.at ?? t1
  const eDown = (verifyAt - t0) / 1000
  const eVerify = (t1 - verifyAt) / 1000
  extra[`verify time after ${size / GiB} GiB, 1 conn, engine (budget ≤ 10 % of the download)`] =
    `${eVerify.toFixed(2)} s after ${eDown.toFixed(1)} s (${((eVerify / eDown) * 100).toFixed(1)} %)`
  const { ws, models } = helperWorkspace('verify-helper-ws')
  const h = await helperDownload(ws, models, f.url, 1, 'verify.bin', { sha256: f.sha256 })
  rmSync(h.file, { force: true })
  const hDown = h.seconds - h.verifySeconds
  extra[`verify time after ${size / GiB} GiB, 1 conn, helper (budget ≤ 10 % of the download)`] =
    `${h.verifySeconds.toFixed(2)} s after ${hDown.toFixed(1)} s (${((h.verifySeconds / hDown) * 100).toFixed(1)} %)`
}, 1_800_000)

/** Median time from a change of `downloaded` in the pod's status file to the
 *  client seeing it through the helper's watch over a real sshd. */
async function podLatency(): Promise<string> {
  const sshd: SshdHarness = await startSshd()
  try {
    const ws = join(work, 'latency-ws')
    mkdirSync(join(ws, '.podpull'), { recursive: true })
    const file = join(ws, '.download_status.json')
    const entry = (n: number) => ({
      [join(ws, 'ComfyUI/models/loras/x.safetensors')]: {
        status: 'downloading',
        downloaded: n,
        progress: 1,
        id: 'lat',
        timestamp: Date.now() / 1000,
        progress_time: Date.now() / 1000,
        owner: null
      }
    })
    writeFileSync(file, JSON.stringify(entry(0)))
    const helperPath = join(ws, '.podpull', 'helper.pyz')
    writeFileSync(helperPath, readFileSync(HELPER))
    const ssh = spawn(
      'ssh',
      [
        '-i',
        sshd.keyPath,
        '-p',
        String(sshd.port),
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'LogLevel=ERROR',
        `${sshd.user}@127.0.0.1`,
        `python3 ${PYTHON_FLAGS.join(' ')} ${helperPath} watch`
      ],
      { stdio: ['pipe', 'pipe', 'ignore'] }
    )
    // One request, then EOF: the helper reads its whole stdin before answering.
    ssh.stdin.end(JSON.stringify({ workspace: ws }))
    const seen = new Map<number, number>()
    let buf = ''
    ssh.stdout.on('data', (d) => {
      buf += d
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        try {
          const msg = JSON.parse(line) as {
            type: string
            status?: Record<string, { downloaded: number }>
          }
          for (const e of Object.values(msg.status ?? {}))
            if (!seen.has(e.downloaded)) seen.set(e.downloaded, performance.now())
        } catch {
          // partial line
        }
      }
    })
    await new Promise((r) => setTimeout(r, 1500))
    const lat: number[] = []
    for (let n = 1; n <= 15; n++) {
      const t0 = performance.now()
      writeFileSync(file + '.tmp', JSON.stringify(entry(n * 1000)))
      spawnSync('mv', [file + '.tmp', file])
      while (!seen.has(n * 1000) && performance.now() - t0 < 5000)
        await new Promise((r) => setTimeout(r, 5))
      lat.push((seen.get(n * 1000) ?? performance.now()) - t0)
      await new Promise((r) => setTimeout(r, 600))
    }
    ssh.kill()
    lat.sort((x, y) => x - y)
    return `${(lat[Math.floor(lat.length / 2)]! / 1000).toFixed(2)} s (max ${(lat.at(-1)! / 1000).toFixed(2)} s)`
  } finally {
    await sshd.stop()
  }
}

function printTable(): void {
  const lines = ['| case | tool | seconds | MB/s |', '|---|---|---:|---:|']
  for (const r of rows)
    lines.push(`| ${r.case} | ${r.tool} | ${r.seconds.toFixed(2)} | ${r.mbps.toFixed(0)} |`)
  lines.push('', '| measure | value |', '|---|---|')
  for (const [k, v] of Object.entries(extra)) lines.push(`| ${k} | ${v} |`)
  const table = lines.join('\n')
  writeFileSync(join(ROOT, 'bench/results.md'), `${table}\n`)
  console.log(`\n${table}\n`)
}
