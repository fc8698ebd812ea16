// Both engines share one status file: the TypeScript lock (statusLock.ts) and the
// helper's StatusLock follow one protocol (docs/formats.md "Lock"), so writers
// of both kinds lose no update even on a slow disk where a write outlasts the
// stale time, and a lock taken over is never removed by its old holder. Owners
// carry their pid's start time, so a reused pid never counts as alive.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { currentBootId } from '../../src/main/engine/sidecar'
import { ageEntries, pidStartTime, STOPPED_REASON } from '../../src/main/status/entryAging'
import {
  readStatusText,
  statusFilePath,
  withStatusLock,
  writeStatusAtomic,
  type RawStatus
} from '../../src/main/status/statusFile'
import { acquireStatusLock, LOCK_STALE_MS } from '../../src/main/status/statusLock'
import { waitFor } from '../support/wait'
import { HELPER_PATH } from '../conformance/helperDriver'
import { childWithErrorListeners } from '../support/listeners'

// Imports the built helper's modules, so a test drives its StatusFile and StatusLock directly.
const LOAD_HELPER = `
import json, os, random, sys, time
sys.path.insert(0, sys.argv[1])
from podpull_helper import lock, owners, status
`

function python(script: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = childWithErrorListeners(
      spawn('python3', ['-I', '-S', '-B', '-c', LOAD_HELPER + script, HELPER_PATH, ...args])
    )
    let out = ''
    let err = ''
    p.stdout.on('data', (c: Buffer) => (out += c.toString()))
    p.stderr.on('data', (c: Buffer) => (err += c.toString()))
    p.on('error', reject)
    p.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`python exited ${code}: ${err}`))
    )
  })
}

const dirs: string[] = []
function workspace(): string {
  const d = mkdtempSync(join(tmpdir(), 'podpull-lock-'))
  dirs.push(d)
  return d
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const COUNTER = '/counter'
const OPS = 12
/** Longer than the stale time: without refreshing, the waiting writer would take over. */
const LONG_HOLD_S = LOCK_STALE_MS / 1000 + 1.5

type Counter = { status: string; ts: number; py: number; shared: number }
const counter = (raw: RawStatus): Counter =>
  (raw[COUNTER] as Counter | undefined) ?? { status: 'counter', ts: 0, py: 0, shared: 0 }

// The helper's writer: OPS increments through StatusFile.update, its writes slowed
// (a slow disk, 20–60 ms each), with pauses between them longer than a waiter's
// retry interval; one of them, made while the TypeScript writer still has work
// left, outlasts the stale time. Prints the longest it waited for the lock.
const PY_WRITER = `
ws, ops, long_hold = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
sf = status.StatusFile(ws)
delay = [0.0]
real_write, real_acquire = status.atomic_write_json, lock.StatusLock.acquire
def slow_write(path, obj, sync=True):
    time.sleep(delay[0])
    real_write(path, obj, sync)
waits = [0.0]
def timed_acquire(self):
    t = time.time()
    real_acquire(self)
    waits.append(time.time() - t)
status.atomic_write_json, lock.StatusLock.acquire = slow_write, timed_acquire
def ts_done():
    return (sf.read().get("/counter") or {}).get("ts", 0)
while ts_done() < 1:
    time.sleep(0.02)
held_long = False
for i in range(ops):
    # After our first increment (TypeScript waits for it), while TypeScript has work left.
    if not held_long and i >= 1 and ts_done() <= ops - 1:
        delay[0], held_long = long_hold, True
    else:
        delay[0] = random.uniform(0.02, 0.06)
    def fn(d):
        c = d.setdefault("/counter", {"status": "counter", "ts": 0, "py": 0, "shared": 0})
        c["py"] += 1
        c["shared"] += 1
    sf.update(fn)
    time.sleep(random.uniform(0.12, 0.15))  # a real writer pauses between writes
print(json.dumps({"maxWait": max(waits), "heldLong": held_long}))
`

describe('status lock shared by both engines', () => {
  it('loses no update from TypeScript and helper writers on a slow disk, each outlasting the stale time once', async () => {
    const ws = workspace()
    const file = statusFilePath(ws)
    const py = python(PY_WRITER, ws, String(OPS), String(LONG_HOLD_S))
    let maxWait = 0
    let heldLong = false
    for (let i = 0; i < OPS; i++) {
      // The first increment lets the helper start; later ones wait for its progress.
      if (i === 1) await waitFor(async () => counter(await readRaw(file)).py >= 1, 'the helper')
      const asked = Date.now()
      await withStatusLock(file, async () => {
        maxWait = Math.max(maxWait, Date.now() - asked)
        const raw = await readRaw(file)
        const c = counter(raw)
        const longNow = !heldLong && i >= 1 && c.py >= 1 && c.py <= OPS - 1
        heldLong ||= longNow
        raw[COUNTER] = { ...c, ts: c.ts + 1, shared: c.shared + 1 }
        await sleep(longNow ? LONG_HOLD_S * 1000 : 20 + Math.random() * 40)
        await writeStatusAtomic(file, raw)
      })
      await sleep(120 + Math.random() * 30) // a real writer pauses between writes
    }
    const helper = JSON.parse(await py) as { maxWait: number; heldLong: boolean }
    expect(counter(await readRaw(file))).toEqual({
      status: 'counter',
      ts: OPS,
      py: OPS,
      shared: 2 * OPS
    })
    // Each side held the lock past the stale time while the other waited, and the
    // waiter saw it refreshed (it waited rather than taking it over).
    expect({ ts: heldLong, helper: helper.heldLong }).toEqual({ ts: true, helper: true })
    expect(maxWait).toBeGreaterThan(LOCK_STALE_MS)
    expect(helper.maxWait * 1000).toBeGreaterThan(LOCK_STALE_MS)
    expect(existsSync(`${file}.lock`)).toBe(false)
  }, 120_000)

  it('never removes a lock that was taken over: TypeScript after the helper took it, and back', async () => {
    const ws = workspace()
    const file = statusFilePath(ws)
    const lockDir = `${file}.lock`
    const aged = (): void => utimesSync(lockDir, new Date(0), new Date(0))

    // A holder that froze: it stopped refreshing, so its lock goes stale.
    const ts = await acquireStatusLock(file, { updateMs: 3_600_000 })
    aged() // the helper takes it over and keeps it
    await python(`lock.StatusLock(sys.argv[2]).acquire()`, lockDir)
    const helperOwner = readFileSync(join(lockDir, 'owner'), 'utf8')
    expect(JSON.parse(helperOwner)).toMatchObject({ engine: 'helper' })
    await ts.release()
    expect(readFileSync(join(lockDir, 'owner'), 'utf8')).toBe(helperOwner)

    // Now the helper's stale lock is taken over by TypeScript; the helper's release leaves it.
    aged()
    const taker = await acquireStatusLock(file)
    const tsOwner = readFileSync(join(lockDir, 'owner'), 'utf8')
    expect(JSON.parse(tsOwner)).toMatchObject({ engine: 'ts' })
    const out = await python(
      `
a = lock.StatusLock(sys.argv[2])
a.nonce = json.loads(sys.argv[3])["nonce"]  # the helper that held it before
a.release()
print(json.dumps(os.path.isdir(sys.argv[2])))`,
      lockDir,
      helperOwner
    )
    expect(JSON.parse(out)).toBe(true)
    expect(readFileSync(join(lockDir, 'owner'), 'utf8')).toBe(tsOwner)
    await taker.release()
    expect(existsSync(lockDir)).toBe(false)
  })

  it('has the helper refresh the lock while held and release it when done', async () => {
    const ws = workspace()
    const lockDir = `${statusFilePath(ws)}.lock`
    const out = await python(
      `
a = lock.StatusLock(sys.argv[2])
a.acquire()
os.utime(sys.argv[2], (1, 1))
deadline = time.time() + 30
while os.stat(sys.argv[2]).st_mtime < 2 and time.time() < deadline:
    time.sleep(0.05)
refreshed = os.stat(sys.argv[2]).st_mtime > 2
a.release()
print(json.dumps({"refreshed": refreshed, "gone": not os.path.exists(sys.argv[2])}))`,
      lockDir
    )
    expect(JSON.parse(out)).toEqual({ refreshed: true, gone: true })
  })

  it('has TypeScript refresh the lock while held', async () => {
    const file = statusFilePath(workspace())
    const held = await acquireStatusLock(file)
    utimesSync(`${file}.lock`, new Date(1000), new Date(1000))
    await waitFor(() => readMtime(`${file}.lock`) > 2000, 'the lock refreshed')
    expect(held.compromised()).toBe(false)
    await held.release()
    expect(existsSync(`${file}.lock`)).toBe(false)
  })
})

describe('owner start time', () => {
  const boot = currentBootId() ?? undefined
  const rules = {
    now: Date.now() / 1000,
    retentionHours: 24,
    staleMinutes: 10,
    host: hostname(),
    isPidAlive: () => true,
    running: new Set<string>()
  }
  const downloading = (start: number) => ({
    status: 'downloading',
    id: 'a1b2c3d4e5f60718',
    progress_time: Date.now() / 1000,
    resumable: true,
    owner: { host: hostname(), pid: process.pid, engine: 'ts', boot, start }
  })

  it('TypeScript: a live pid with another start time is a reused pid, so its entry is stale', () => {
    const start = pidStartTime(process.pid)
    expect(start).toBeGreaterThan(0)
    const reused: RawStatus = { '/m/a.bin': downloading(start! + 1) }
    expect(ageEntries(reused, rules).stale).toEqual(['/m/a.bin'])
    expect(reused['/m/a.bin']).toMatchObject({ status: 'paused', owner: null, interrupted: true })
    const same: RawStatus = { '/m/a.bin': downloading(start!) }
    expect(ageEntries(same, rules).stale).toEqual([])
    expect(STOPPED_REASON).toBe('the download process stopped')
  })

  it('helper: records its start time and treats a reused pid as dead, so it is never signalled', async () => {
    const out = await python(`
me = owners.my_owner()
reused = dict(me, start=me["start"] + 1)
older = dict(me)
del older["start"]  # an owner written before start times: pid and boot decide
print(json.dumps([me["start"] == owners.pid_start(os.getpid()), owners.owner_alive(me),
                  owners.owner_alive(reused), owners.owner_alive(older)]))`)
    expect(JSON.parse(out)).toEqual([true, true, false, true])
  })
})

async function readRaw(file: string): Promise<RawStatus> {
  const text = await readStatusText(file)
  return text.trim() ? (JSON.parse(text) as RawStatus) : {}
}

function readMtime(path: string): number {
  try {
    return statSync(path).mtimeMs
  } catch {
    return 0
  }
}
