// The pod helper's other commands: probe, models, status (stale settling,
// corruption, retention), the shared lock, watch, and bad requests.
import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync
} from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { serverAndScratch } from '../support/serverScratch'
import {
  FAST,
  HELPER_PATH,
  HELPER_VERSION,
  readStatusFile,
  runHelper
} from '../conformance/helperDriver'
import { waitFor } from '../support/wait'
import { childWithErrorListeners } from '../support/listeners'

const MiB = 1 << 20
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const fx = serverAndScratch('podpull-helper-cmd-')
let n = 0

function workspace(): string {
  const ws = join(fx.root, `w${++n}`)
  mkdirSync(ws, { recursive: true })
  return ws
}

const now = () => Date.now() / 1000

function entry(id: string, over: Record<string, unknown>): Record<string, unknown> {
  return {
    progress: 10,
    status: 'downloading',
    url: 'https://example.com/x.safetensors',
    start_time: now() - 60,
    timestamp: now(),
    file_size: 100,
    downloaded: 10,
    error: null,
    id,
    folder: 'checkpoints',
    filename: `${id}.safetensors`,
    owner: null,
    progress_time: now(),
    resumable: false,
    rev: 1,
    ...over
  }
}

/** A pid that surely is not running (a process that already exited). */
async function deadPid(): Promise<number> {
  const p = childWithErrorListeners(spawn('true'))
  await new Promise((r) => p.on('exit', r))
  return p.pid!
}

describe('pod helper commands', () => {
  it('probe reports python, version, free space and the ComfyUI it finds', async () => {
    const ws = workspace()
    const comfy = join(ws, 'MyComfy')
    mkdirSync(join(comfy, 'models'), { recursive: true })
    const a = await runHelper('probe', { workspace: ws, comfyui: comfy })
    expect(a).toMatchObject({
      ok: true,
      helper_version: HELPER_VERSION,
      workspace: ws,
      writable: true,
      comfyui: comfy
    })
    expect(a.python).toMatch(/^3\.\d+\.\d+$/)
    expect(a.free_bytes).toBeGreaterThan(0)
    expect(a.candidates).toEqual([
      comfy,
      join(ws, 'ComfyUI'),
      join(ws, 'runpod-slim', 'ComfyUI'),
      '/workspace/ComfyUI',
      '/workspace/runpod-slim/ComfyUI',
      '/opt/ComfyUI'
    ])
    // A configured path without models/ is not taken.
    const b = await runHelper('probe', { workspace: ws, comfyui: join(ws, 'nothing') })
    expect(b.comfyui).not.toBe(join(ws, 'nothing'))
  })

  it('models lists model files by folder, without partial or hidden files', async () => {
    const ws = workspace()
    const models = join(ws, 'models')
    mkdirSync(join(models, 'checkpoints'), { recursive: true })
    mkdirSync(join(models, 'loras', 'flux'), { recursive: true })
    writeFileSync(join(models, 'checkpoints', 'a.safetensors'), Buffer.alloc(1000))
    writeFileSync(join(models, 'checkpoints', 'b.safetensors.part'), Buffer.alloc(10))
    writeFileSync(join(models, 'checkpoints', 'b.safetensors.part.json'), '{}')
    writeFileSync(join(models, 'checkpoints', '.hidden'), 'x')
    writeFileSync(join(models, 'loras', 'flux', 'c.safetensors'), Buffer.alloc(5))
    const a = await runHelper('models', { workspace: ws, models_dir: models })
    const list = (a.models as { folder: string; name: string; size: number }[]).map((m) => [
      m.folder,
      m.name,
      m.size
    ])
    expect(list).toEqual([
      ['checkpoints', 'a.safetensors', 1000],
      ['loras/flux', 'c.safetensors', 5]
    ])
  })

  it('status settles stale entries: dead owner → paused or error; silent too long → error', async () => {
    const ws = workspace()
    const dead = await deadPid()
    const other = { host: 'some-other-pod', pid: 1, engine: 'helper' }
    const thisBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    const file = {
      '/m/a': entry('aaaaaaaaaaaaaaaa', {
        owner: { host: hostname(), pid: dead, engine: 'helper' },
        resumable: true
      }),
      '/m/b': entry('bbbbbbbbbbbbbbbb', {
        owner: { host: hostname(), pid: dead, engine: 'ts' }
      }),
      '/m/c': entry('cccccccccccccccc', { owner: other, progress_time: now() - 3600 }),
      '/m/d': entry('dddddddddddddddd', { owner: other }),
      // A pid alive now, but recorded before a pod restart: it is someone else.
      '/m/f': entry('ffffffffffffffff', {
        owner: { host: hostname(), pid: process.pid, engine: 'helper', boot: 'an-earlier-boot' },
        resumable: true
      }),
      '/m/g': entry('9999999999999999', {
        owner: { host: hostname(), pid: process.pid, engine: 'helper', boot: thisBoot }
      }),
      '/m/e': 'not an entry'
    }
    writeFileSync(join(ws, '.download_status.json'), JSON.stringify(file))
    const a = await runHelper('status', { workspace: ws })
    const st = a.status as Record<string, Record<string, unknown>>
    expect(st['/m/a']).toMatchObject({ status: 'paused', error: null, owner: null })
    expect(st['/m/b']).toMatchObject({ status: 'error', owner: null })
    expect(st['/m/b']!.error).toMatch(/stopped/)
    expect(st['/m/c']).toMatchObject({ status: 'error' })
    expect(st['/m/d']).toMatchObject({ status: 'downloading', owner: other })
    expect(st['/m/e']).toBe('not an entry')
    expect(st['/m/f']).toMatchObject({ status: 'paused', owner: null })
    expect(st['/m/g']).toMatchObject({ status: 'downloading' })
    expect((st['/m/a']!.rev as number) > 1).toBe(true)
    // Written back for every other reader.
    expect(readStatusFile(ws)['/m/a']!.status).toBe('paused')
  })

  it('a corrupt status file is moved aside and treated as empty', async () => {
    const ws = workspace()
    writeFileSync(join(ws, '.download_status.json'), '{"truncated": {"status": "downl')
    const a = await runHelper('clear-completed', { workspace: ws })
    expect(a).toEqual({ ok: true, removed: 0 })
    expect(readdirSync(ws).some((f) => /^\.download_status\.json\.corrupt-\d+$/.test(f))).toBe(true)
    expect(readStatusFile(ws)).toEqual({})
  })

  it('clear-completed drops completed entries; old ones go on any write (retention)', async () => {
    const ws = workspace()
    writeFileSync(
      join(ws, '.download_status.json'),
      JSON.stringify({
        '/m/done': entry('1111111111111111', { status: 'completed' }),
        '/m/old': entry('2222222222222222', { status: 'cancelled', timestamp: now() - 25 * 3600 }),
        '/m/err': entry('3333333333333333', { status: 'error', error: 'boom' })
      })
    )
    expect(await runHelper('clear-completed', { workspace: ws })).toEqual({ ok: true, removed: 1 })
    expect(Object.keys(readStatusFile(ws))).toEqual(['/m/err'])
  })

  it('honours the lock: waits while it is held, takes over a stale one', async () => {
    const ws = workspace()
    const lock = join(ws, '.download_status.json.lock')
    mkdirSync(lock)
    const running = runHelper('clear-completed', { workspace: ws })
    await sleep(700)
    // Still waiting after the sleep (a wall-clock bound on the wait would be off
    // by a timer's rounding: the missing file is what proves it waited).
    expect(existsSync(join(ws, '.download_status.json'))).toBe(false)
    rmSync(lock, { recursive: true })
    expect(await running).toEqual({ ok: true, removed: 0 })
    // A lock whose holder died long ago (mtime 20 s old) is taken over at once.
    mkdirSync(lock)
    utimesSync(lock, now() - 20, now() - 20)
    expect(await runHelper('clear-completed', { workspace: ws })).toEqual({ ok: true, removed: 0 })
    expect(existsSync(lock)).toBe(false)
  })

  it('watch prints the status at once, on changes (≤ 2/s) and heartbeats', async () => {
    const ws = workspace()
    const models = join(ws, 'models')
    mkdirSync(models)
    const spawnedAt = Date.now()
    const w = childWithErrorListeners(
      spawn('python3', [HELPER_PATH, 'watch'], { stdio: ['pipe', 'pipe', 'ignore'] })
    )
    const lines: { msg: { type: string; status?: Record<string, unknown> } }[] = []
    let buf = ''
    w.stdout.on('data', (b: Buffer) => {
      buf += b.toString()
      const parts = buf.split('\n')
      buf = parts.pop()!
      for (const p of parts) lines.push({ msg: JSON.parse(p) })
    })
    w.stdin.end(JSON.stringify({ workspace: ws }))
    try {
      await waitFor(() => lines.length > 0, 'the first line')
      expect(lines[0]?.msg).toEqual({ type: 'status', status: {} })
      const f = fx.srv.addFile('/watch/w.safetensors', { size: 3 * MiB, throttleBps: 1 * MiB })
      const a = await runHelper('start', {
        workspace: ws,
        models_dir: models,
        url: f.url,
        folder: 'checkpoints',
        connections: 1,
        ...FAST
      })
      expect(a.ok).toBe(true)
      const statuses = () => lines.filter((l) => l.msg.type === 'status')
      const withJob = () => statuses().filter((l) => Object.keys(l.msg.status ?? {}).length > 0)
      // Starting, then progress each second; and a heartbeat (every 5 s) in between.
      await waitFor(
        () => withJob().length >= 3 && lines.some((l) => l.msg.type === 'heartbeat'),
        'three job statuses and a heartbeat'
      )
      expect(withJob().length).toBeGreaterThanOrEqual(3)
      // At most one status per 0.5 s: every line seen so far was written
      // between the spawn and now. (Not the gaps between arrivals: a busy
      // machine hands the test two lines at once.)
      const seconds = (Date.now() - spawnedAt) / 1000
      expect(statuses().length).toBeLessThanOrEqual(Math.floor(seconds * 2) + 1)
      expect(lines.some((l) => l.msg.type === 'heartbeat')).toBe(true)
      await runHelper('cancel', { workspace: ws, id: a.id })
      // The SSH channel closing (stdout gone) ends the watcher by itself: no
      // kill before it exits (the test's time bound stops a watcher that never does).
      const exited = new Promise((r) => w.on('exit', r))
      w.stdout.destroy()
      await exited
    } finally {
      w.kill()
    }
  })

  it('bad requests get one clear sentence and a code; nothing changes', async () => {
    const ws = workspace()
    const models = join(ws, 'models')
    mkdirSync(models)
    const base = { workspace: ws, models_dir: models, folder: 'checkpoints', connections: 1 }
    const cases: [string, unknown, string][] = [
      ['start', { ...base, url: 'ftp://example.com/x.bin' }, 'bad-request'],
      ['start', { ...base, url: 'http://127.0.0.1:1/x.bin', folder: '../../etc' }, 'unsafe-path'],
      ['start', { ...base, url: 'http://127.0.0.1:1/x.bin', folder: '/abs' }, 'unsafe-path'],
      ['start', { ...base, url: 'http://127.0.0.1:1/x.bin', filename: '..' }, 'unsafe-path'],
      ['start', { ...base, url: 'http://127.0.0.1:1/x.bin', connections: 0 }, 'bad-request'],
      ['start', { ...base, url: 'http://127.0.0.1:1/x.bin', sha256: 'zz' }, 'bad-request'],
      ['resume', { workspace: ws, id: 'feedfeedfeedfeed', tokens: {} }, 'not-found'],
      ['pause', { workspace: ws, id: 'feedfeedfeedfeed' }, 'not-found'],
      ['status', { workspace: 'relative/ws' }, 'bad-request'],
      ['rm -rf /', {}, 'bad-request']
    ]
    for (const [cmd, req, code] of cases) {
      const a = await runHelper(cmd, req)
      expect(a, `${cmd} ${JSON.stringify(req)}`).toMatchObject({ ok: false, code })
      expect(a.error).toMatch(/^[A-Z"].*[.)]$/)
    }
    // Not JSON at all.
    const raw = await new Promise<string>((resolve) => {
      const p = childWithErrorListeners(spawn('python3', [HELPER_PATH, 'status']))
      let out = ''
      p.stdout.on('data', (b: Buffer) => (out += b.toString()))
      p.on('close', () => resolve(out))
      p.stdin.end('{not json')
    })
    expect(JSON.parse(raw)).toMatchObject({ ok: false, code: 'bad-request' })
    expect(readdirSync(models)).toEqual([])
    expect(existsSync(join(ws, '.download_status.json'))).toBe(false)
  })
})
