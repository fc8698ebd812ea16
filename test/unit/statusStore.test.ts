// The status file as a user (or the pod helper, or the seed's web tool) sees it
// on disk: format, retention, staleness, corruption, write rate, watching.
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { StatusStore, type StatusStoreOptions } from '../../src/main/status/statusStore'
import { writeStatusAtomic } from '../../src/main/status/statusFile'
import { acquireStatusLock } from '../../src/main/status/statusLock'
import { sidecarProgress } from '../../src/main/status/entryAging'
import { readSidecar } from '../../src/main/engine/sidecar'
import { heldRead } from '../support/heldRead'
import { entryToRecord, recordToEntry, type StatusEntry } from '../../src/main/status/statusEntry'

// The real writer, counted: claims made together must share one write.
vi.mock('../../src/main/status/statusFile', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/main/status/statusFile')>()
  return { ...real, writeStatusAtomic: vi.fn(real.writeStatusAtomic) }
})

const T0 = Date.UTC(2026, 0, 1) // ms
let dir: string
let stores: StatusStore[] = []
let now = T0

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podpull-status-'))
  now = T0
})
afterEach(async () => {
  for (const s of stores) await s.close().catch(() => undefined)
  stores = []
  await rm(dir, { recursive: true, force: true })
})

function makeStore(o: Partial<StatusStoreOptions> = {}): StatusStore {
  const s = new StatusStore({
    workspace: dir,
    retentionHours: () => 24,
    staleMinutes: () => 10,
    clock: () => now,
    host: 'testhost',
    pid: process.pid,
    ...o
  })
  s.on('error', (err) => {
    throw err
  })
  stores.push(s)
  return s
}

function entry(id: string, over: Partial<StatusEntry> = {}): StatusEntry {
  const t = now / 1000
  return {
    progress: 0,
    status: 'downloading',
    url: `https://example.com/${id}.safetensors`,
    start_time: t,
    timestamp: t,
    file_size: 4 * 1024 * 1024,
    downloaded: 1024 * 1024,
    speed: 2 * 1024 * 1024,
    eta: 90,
    file_size_mb: 0,
    downloaded_mb: 0,
    speed_mb: 0,
    eta_minutes: null,
    error: null,
    id,
    folder: 'loras',
    filename: `${id}.safetensors`,
    sha256: null,
    source: 'direct',
    connections: 1,
    attempts: 1,
    owner: { host: 'testhost', pid: process.pid, engine: 'ts' },
    progress_time: t,
    resumable: true,
    rev: 0,
    error_code: null,
    interrupted: false,
    ...over
  }
}

const file = (): string => join(dir, '.download_status.json')
const readJson = async (): Promise<Record<string, Record<string, unknown>>> =>
  JSON.parse(await readFile(file(), 'utf8')) as Record<string, Record<string, unknown>>

describe('status file format', () => {
  it('writes the seed fields plus extensions in snake_case, keyed by final path', async () => {
    const s = makeStore()
    await s.open()
    const p = join(dir, 'ComfyUI/models/loras/a.safetensors')
    s.put(p, entry('aaaaaaaaaaaaaaaa'), { urgent: true, running: true })
    await s.flush()
    const got = (await readJson())[p]!
    expect(got).toMatchObject({
      status: 'downloading',
      url: 'https://example.com/aaaaaaaaaaaaaaaa.safetensors',
      file_size: 4194304,
      downloaded: 1048576,
      id: 'aaaaaaaaaaaaaaaa',
      owner: { host: 'testhost', pid: process.pid, engine: 'ts' },
      resumable: true,
      rev: 1
    })
    for (const k of [
      'progress',
      'start_time',
      'timestamp',
      'speed',
      'eta',
      'error',
      'file_size_mb'
    ])
      expect(got).toHaveProperty(k)
  })

  it('a read of the file that one of our writes overtook never shows over that write', async () => {
    const gate = heldRead()
    const s = makeStore({ readForRefresh: gate.reader })
    await s.open()
    const p = join(dir, 'ComfyUI/models/loras/o.safetensors')
    s.put(p, entry('oooooooooooooooo'), { urgent: true, running: true })
    await s.flush()
    gate.armOnce()
    const refreshed = s.refresh()
    expect((await gate.seen()).ok).toBe(true) // it read the file with the entry downloading
    s.put(p, entry('oooooooooooooooo', { status: 'paused' }), { urgent: true })
    await s.flush()
    gate.release()
    await refreshed
    expect(s.get(p)?.status).toBe('paused')
    expect(s.ownedHere(s.get(p)!)).toBe(true)
  })

  it('increases rev on every write of an entry', async () => {
    const s = makeStore()
    await s.open()
    const p = join(dir, 'x.bin')
    const revs: number[] = []
    for (let i = 0; i < 3; i++) {
      s.put(p, entry('bbbbbbbbbbbbbbbb', { downloaded: i * 100 }), { urgent: true, running: true })
      await s.flush()
      revs.push((await readJson())[p]!.rev as number)
    }
    expect(revs[1]).toBeGreaterThan(revs[0]!)
    expect(revs[2]).toBeGreaterThan(revs[1]!)
  })

  it('converts entries to dashboard records and back', () => {
    const e = entry('cccccccccccccccc', { downloaded: 2 * 1024 * 1024 })
    const r = entryToRecord('t1', '/m/loras/c.safetensors', e)
    expect(r).toMatchObject({ id: 'cccccccccccccccc', state: 'downloading', targetId: 't1' })
    const back = recordToEntry(r, { owner: null, progressTime: 5, resumable: false })
    expect(back).toMatchObject({
      status: 'downloading',
      progress: 50,
      downloaded_mb: 2,
      owner: null
    })
  })

  it("reads a seed writer's entry that lacks PodPull's fields", async () => {
    await writeFile(
      file(),
      JSON.stringify({
        '/w/ComfyUI/models/vae/ae.safetensors': {
          progress: 100,
          status: 'completed',
          url: 'https://x/ae.safetensors',
          timestamp: now / 1000,
          file_size: 10,
          downloaded: 10
        }
      })
    )
    const s = makeStore()
    await s.open()
    const e = s.get('/w/ComfyUI/models/vae/ae.safetensors')
    expect(e).toMatchObject({ status: 'completed', filename: 'ae.safetensors', source: 'direct' })
    expect(e!.id).toMatch(/^[0-9a-f]{16}$/)
  })
})

describe('retention and staleness (injected clock)', () => {
  it('drops completed and cancelled entries older than 24 h, keeps younger ones', async () => {
    const s = makeStore()
    await s.open()
    s.put('/m/old.bin', entry('0000000000000001', { status: 'completed', owner: null }))
    s.put('/m/gone.bin', entry('0000000000000002', { status: 'cancelled', owner: null }))
    await s.flush()
    now += 23 * 3600_000
    s.put('/m/young.bin', entry('0000000000000003', { status: 'completed', owner: null }))
    await s.flush()
    expect(Object.keys(await readJson()).sort()).toEqual([
      '/m/gone.bin',
      '/m/old.bin',
      '/m/young.bin'
    ])
    now += 2 * 3600_000 // old ones are 25 h old, young 2 h
    s.put('/m/trigger.bin', entry('0000000000000004', { status: 'paused', owner: null }))
    await s.flush()
    expect(Object.keys(await readJson()).sort()).toEqual(['/m/trigger.bin', '/m/young.bin'])
  })

  it('settles an entry with no progress for 10 min: paused when resumable, error otherwise', async () => {
    const t = now / 1000
    const other = { host: 'otherhost', pid: 1, engine: 'helper' }
    await writeFile(
      file(),
      JSON.stringify({
        '/m/a.bin': { ...entry('00000000000000aa'), owner: other, progress_time: t },
        '/m/b.bin': {
          ...entry('00000000000000bb'),
          owner: other,
          resumable: false,
          progress_time: t
        }
      })
    )
    now += 9 * 60_000
    const s = makeStore()
    await s.open()
    expect(s.get('/m/a.bin')!.status).toBe('downloading')
    now += 2 * 60_000 // 11 minutes without progress
    await s.refresh()
    await s.flush()
    const disk = await readJson()
    expect(disk['/m/a.bin']).toMatchObject({ status: 'paused', error: null, owner: null })
    expect(disk['/m/b.bin']).toMatchObject({ status: 'error', owner: null })
    expect(String(disk['/m/b.bin']!.error)).toMatch(/no progress for 10 minutes/)
  })

  it('settles an entry whose owner on this host is dead at once, and keeps it', async () => {
    const dead = { host: 'testhost', pid: 999999, engine: 'ts' }
    await writeFile(
      file(),
      JSON.stringify({
        '/m/a.bin': { ...entry('00000000000000aa'), owner: dead },
        '/m/b.bin': { ...entry('00000000000000bb'), owner: dead, resumable: false },
        '/m/c.bin': { ...entry('00000000000000cc'), owner: { ...dead, pid: process.pid } },
        // A live pid, but recorded during another boot: a different process.
        '/m/d.bin': {
          ...entry('00000000000000dd'),
          owner: { ...dead, pid: process.pid, boot: 'an-earlier-boot' }
        }
      })
    )
    const s = makeStore({ isPidAlive: (pid) => pid === process.pid })
    await s.open()
    expect(s.get('/m/a.bin')!.status).toBe('paused')
    expect(s.get('/m/b.bin')!.status).toBe('error')
    expect(s.get('/m/b.bin')!.error).toMatch(/download process stopped/)
    expect(s.get('/m/c.bin')!.status).toBe('downloading') // its owner lives
    expect(s.get('/m/d.bin')).toMatchObject({ status: 'paused', interrupted: true })
    await s.flush()
    const disk = await readJson()
    expect(disk['/m/a.bin']).toMatchObject({ status: 'paused', interrupted: true })
    expect(disk['/m/b.bin']!.status).toBe('error')
  })
})

describe('a status file too large to be real, or no file at all', () => {
  async function expectSetAside(why: RegExp): Promise<void> {
    const s = makeStore()
    const notices: string[] = []
    s.on('notice', (n) => notices.push(n))
    await s.open()
    s.put('/m/mine.bin', entry('1111111111111111', { status: 'paused', owner: null }), {
      urgent: true
    })
    await s.flush()
    expect(Object.keys(await readJson())).toEqual(['/m/mine.bin'])
    const aside = (await readdir(dir)).filter((f) => f.startsWith('.download_status.json.corrupt-'))
    expect(aside).toHaveLength(1)
    expect(notices).toHaveLength(1)
    expect(notices[0]).toMatch(why)
    expect(notices[0]).toContain(aside[0])
  }

  it('more than 100,000 entries: set aside, with a message', async () => {
    const many: Record<string, unknown> = {}
    for (let i = 0; i <= 100_000; i++) many[`/m/${i}`] = {}
    await writeFile(file(), JSON.stringify(many))
    await expectSetAside(/it has 100001 entries/)
  })

  it('more than 64 MiB: set aside unread, with a message', async () => {
    await writeFile(file(), JSON.stringify({ '/m/x': { pad: 'x'.repeat(65 * 1024 * 1024) } }))
    await expectSetAside(/it is 65 MiB/)
  })

  it('a FIFO where the file should be is refused at once, not read (which would hang)', async () => {
    execFileSync('mkfifo', [file()])
    await expect(makeStore().open()).rejects.toThrow(/is not a regular file/)
  })

  it('a FIFO where a sidecar should be is no sidecar, seen at once', async () => {
    const path = join(dir, 'x.safetensors')
    execFileSync('mkfifo', [`${path}.part.json`])
    expect(sidecarProgress(path)).toBeNull()
    expect(await readSidecar(path)).toBeUndefined()
  })
})

describe('corruption', () => {
  it('moves a truncated file aside and writes its own entries back', async () => {
    const s = makeStore()
    await s.open()
    s.put('/m/mine.bin', entry('1111111111111111', { status: 'paused', owner: null }), {
      urgent: true
    })
    s.put('/m/run.bin', entry('2222222222222222'), { urgent: true, running: true })
    await s.flush()
    const good = await readFile(file(), 'utf8')
    await writeFile(file(), good.slice(0, good.length / 2)) // truncated mid-write by some tool
    await s.refresh()
    await s.flush()
    const disk = await readJson()
    expect(disk['/m/mine.bin']!.status).toBe('paused')
    expect(disk['/m/run.bin']!.status).toBe('downloading')
    const aside = (await readdir(dir)).filter((f) => f.startsWith('.download_status.json.corrupt-'))
    expect(aside).toEqual([`.download_status.json.corrupt-${Math.floor(now / 1000)}`])
  })

  it('keeps malformed single entries verbatim and skips them on read', async () => {
    await writeFile(
      file(),
      JSON.stringify({ '/m/weird': 'not an object', '/m/nostatus': { progress: 3 } })
    )
    const s = makeStore()
    await s.open()
    expect([...s.entries().keys()]).toEqual([])
    s.put('/m/new.bin', entry('3333333333333333'), { urgent: true, running: true })
    await s.flush()
    const disk = await readJson()
    expect(disk['/m/weird']).toBe('not an object')
    expect(disk['/m/nostatus']).toEqual({ progress: 3 })
    expect(disk['/m/new.bin']!.status).toBe('downloading')
  })
})

describe('write rate and watching', () => {
  it('writes at most once a second however many jobs report progress, and writes what is pending', async () => {
    // The store's write timer and Date run on a clock this test moves, so the
    // count below cannot depend on how busy the machine is.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    try {
      const s = makeStore({ clock: () => Date.now(), pollMs: 3_600_000 })
      await s.open()
      const writes = vi.mocked(writeStatusAtomic)
      writes.mockClear()
      const start = Date.now()
      let n = 0
      const burst = (): void => {
        for (let j = 0; j < 20; j++)
          s.put(`/m/job${j}.bin`, entry(`job${String(j).padStart(13, '0')}`, { downloaded: n }), {
            running: true
          })
        n++
      }
      // The first report is written at once: nothing was written before.
      burst()
      await vi.advanceTimersByTimeAsync(0)
      await s.flush() // settles the write the timer began (nothing else is pending)
      expect(writes).toHaveBeenCalledTimes(1)
      for (let second = 1; second <= 3; second++) {
        // 20 jobs report ten times within the second: no write before it ends...
        for (let k = 0; k < 10; k++) {
          burst()
          await vi.advanceTimersByTimeAsync(k < 9 ? 100 : 99)
        }
        expect(writes).toHaveBeenCalledTimes(second)
        // ...and the latest progress of every job lands when it does.
        await vi.advanceTimersByTimeAsync(1)
        await s.flush()
        expect(writes).toHaveBeenCalledTimes(second + 1)
        const raw = writes.mock.lastCall![1]
        for (let j = 0; j < 20; j++)
          expect(raw[`/m/job${j}.bin`]).toMatchObject({ downloaded: n - 1 })
      }
      expect(Date.now() - start).toBe(3000)
      await s.close()
      expect(writes).toHaveBeenCalledTimes(4)
    } finally {
      vi.useRealTimers()
    }
  })

  it("shows another store's changes through the watch", async () => {
    const a = makeStore({ pid: 1001, isPidAlive: () => true })
    const b = makeStore({ pid: 1002, isPidAlive: () => true, pollMs: 60_000 })
    await a.open()
    await b.open()
    const seen = new Promise<void>((resolve) =>
      b.on('change', (c) => {
        if (c.upserts.some(([p]) => p === '/m/from-a.bin')) resolve()
      })
    )
    a.put('/m/from-a.bin', entry('4444444444444444'), { urgent: true, running: true })
    await a.flush()
    await seen
    expect(b.get('/m/from-a.bin')!.id).toBe('4444444444444444')
  })

  it('passes other processes entries through untouched', async () => {
    const a = makeStore({ pid: 1001, isPidAlive: () => true })
    const b = makeStore({ pid: 1002, isPidAlive: () => true })
    await a.open()
    await b.open()
    a.put('/m/a.bin', entry('5555555555555555'), { urgent: true, running: true })
    await a.flush()
    b.put('/m/b.bin', entry('6666666666666666'), { urgent: true, running: true })
    await b.flush()
    a.put('/m/a.bin', entry('5555555555555555', { downloaded: 7 }), { urgent: true, running: true })
    await a.flush()
    const disk = await readJson()
    expect(disk['/m/a.bin']!.downloaded).toBe(7)
    expect(disk['/m/b.bin']!.id).toBe('6666666666666666')
  })

  it('claim refuses a path another live process runs, and takes over a dead one', async () => {
    const alive = new Set([1001, 1002])
    const a = makeStore({ pid: 1001, isPidAlive: (p) => alive.has(p) })
    const b = makeStore({ pid: 1002, isPidAlive: (p) => alive.has(p) })
    await a.open()
    await b.open()
    const p = '/m/contended.bin'
    const first = await a.claim(p, entry('7777777777777777', { owner: a.owner() }), {
      running: true
    })
    expect(first.ok).toBe(true)
    const second = await b.claim(p, entry('8888888888888888', { owner: b.owner() }), {
      running: true
    })
    expect(second).toMatchObject({ ok: false, holder: { id: '7777777777777777' } })
    alive.delete(1001) // a crashed
    const third = await b.claim(p, entry('7777777777777777', { owner: b.owner() }), {
      running: true
    })
    expect(third.ok).toBe(true)
    expect((await readJson())[p]!.owner).toMatchObject({ pid: 1002 })
  })

  it('claims made while the lock is awaited are decided together, in one write', async () => {
    const alive = new Set([1001, 1002])
    const a = makeStore({ pid: 1001, isPidAlive: (p) => alive.has(p) })
    const b = makeStore({ pid: 1002, isPidAlive: (p) => alive.has(p) })
    await a.open()
    await b.open()
    const held = '/m/held-by-b.bin'
    expect((await b.claim(held, entry('9999999999999999', { owner: b.owner() }))).ok).toBe(true)
    const writes = vi.mocked(writeStatusAtomic)
    writes.mockClear()
    // The lock is taken here, so the first claim waits for it.
    const lock = await acquireStatusLock(file())
    const first = a.claim('/m/first.bin', entry('1111111111111111', { owner: a.owner() }))
    await new Promise((r) => setImmediate(r)) // the first claim is on its way to the lock
    const more = ['/m/x.bin', held, '/m/y.bin'].map((p, i) =>
      a.claim(p, entry(`${i + 2}`.repeat(16), { owner: a.owner() }), { running: true })
    )
    await lock.release()
    expect((await first).ok).toBe(true)
    const [x, refused, y] = await Promise.all(more)
    expect(x!.ok && y!.ok).toBe(true)
    expect(refused).toMatchObject({ ok: false, holder: { id: '9999999999999999' } })
    expect(writes).toHaveBeenCalledTimes(1) // the four claims, decided under one lock
    const disk = await readJson()
    expect(disk['/m/first.bin']!.owner).toMatchObject({ pid: 1001 })
    expect(disk['/m/x.bin']!.id).toBe('2222222222222222')
    expect(disk['/m/y.bin']!.id).toBe('4444444444444444')
    expect(disk[held]!.owner).toMatchObject({ pid: 1002 })
    expect(a.get('/m/y.bin')?.id).toBe('4444444444444444')
  })
})
