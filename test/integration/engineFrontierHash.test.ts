// The SHA-256 computed while downloading (engine/frontierHash.ts): a worker
// thread hashes the written prefix of the `.part` as the segments fill it, so
// the check after the download needs no second read. These check that the
// hash it produces is the file's, with several connections, work stealing,
// drops, and a resume whose earlier bytes were written by another run.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { fileSha, startEngine } from '../support/engine'
import { FrontierHash, frontierOf } from '../../src/main/engine/frontierHash'
import { EngineError } from '../../src/main/engine/types'

const MiB = 1024 * 1024
let srv: ModelServer
const dirs: string[] = []
let n = 0

beforeAll(async () => {
  srv = await startModelServer()
})
afterAll(() => srv.close())
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** Threads of this process at nice 19 (Linux: /proc/self/task/<tid>/stat, field 19). */
function nicestThreads(): Set<string> {
  const out = new Set<string>()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      // The name (field 2) may hold spaces: count the fields after its closing paren.
      const nice = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]
      if (nice === '19') out.add(tid)
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out
}

function newFile(size: number, faults: Parameters<ModelServer['addFile']>[1] = { size }) {
  const f = srv.addFile(`/frontier/${++n}/model.safetensors`, { ...faults, size })
  const dir = mkdtempSync(join(tmpdir(), 'engine-frontier-'))
  dirs.push(dir)
  return { f, finalPath: join(dir, 'model.safetensors') }
}

describe('hashing along the written frontier', () => {
  it('frontierOf: the gapless written prefix, whatever the order of the segments', () => {
    expect(
      frontierOf([
        { start: 40, end: 100, done: 60 },
        { start: 0, end: 20, done: 20 },
        { start: 20, end: 40, done: 5 }
      ])
    ).toBe(25)
    expect(
      frontierOf([
        { start: 0, end: 10, done: 10 },
        { start: 10, end: 30, done: 20 }
      ])
    ).toBe(30)
    expect(frontierOf([{ start: 0, end: 10, done: 0 }])).toBe(0)
  })

  it('8 connections with drops: the streamed hash is the file hash and is checked', async () => {
    const { f, finalPath } = newFile(24 * MiB, {
      size: 0,
      seed: 'frontier8',
      dropAfterBytes: 2 * MiB,
      dropTimes: 5
    })
    const res = await startEngine(
      f,
      finalPath,
      { sha256: f.sha256, connections: 8 },
      { segmentThreshold: MiB }
    ).result
    expect(res.outcome).toBe('completed')
    expect(res.sha256).toBe(f.sha256)
    expect(fileSha(finalPath)).toBe(f.sha256)
  })

  it('8 connections take the file front to back, so the hashed prefix grows with the download', async () => {
    const size = 32 * MiB
    const span = MiB // a quarter of each connection's share
    const { f, finalPath } = newFile(size, { size: 0, seed: 'frontToBack' })
    const res = await startEngine(
      f,
      finalPath,
      { sha256: f.sha256, connections: 8 },
      { segmentThreshold: MiB }
    ).result
    expect(res).toMatchObject({ outcome: 'completed', sha256: f.sha256 })
    const starts = srv
      .requestsFor(f.path)
      .map((r) => /^bytes=(\d+)-(\d+)$/.exec(String(r.headers.range)))
      .filter((m) => m && Number(m[2]) > Number(m[1])) // not the one-byte probe
      .map((m) => Number(m![1]))
    expect(starts).toHaveLength(size / span)
    // Concurrent requests may reach the server in any order, but none asks for
    // bytes more than one span per connection past its turn (contiguous shares
    // per connection would ask for the file's last eighth among the first eight).
    starts.forEach((start, i) => expect(start).toBeLessThan((i + 8) * span))
    expect(new Set(starts).size).toBe(size / span)
  })

  it('a wrong expected hash still fails with 8 connections, and the download is removed', async () => {
    const { f, finalPath } = newFile(12 * MiB, { size: 0, seed: 'wrong8' })
    const err = await startEngine(
      f,
      finalPath,
      { sha256: 'ef'.repeat(32), connections: 8 },
      { segmentThreshold: MiB }
    ).result.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EngineError)
    expect((err as EngineError).code).toBe('checksum')
    expect(existsSync(finalPath)).toBe(false)
    expect(existsSync(finalPath + '.part')).toBe(false)
  })

  it('a resumed download hashes the bytes the paused run wrote, too', async () => {
    const { f, finalPath } = newFile(16 * MiB, { size: 0, seed: 'resume', throttleBps: 8 * MiB })
    const first = startEngine(f, finalPath, { connections: 4 }, { segmentThreshold: MiB })
    await expect
      .poll(() => first.progress.at(-1)?.downloaded ?? 0, { timeout: 30_000 })
      .toBeGreaterThanOrEqual(4 * MiB)
    first.ctl.abort('pause')
    expect((await first.result).outcome).toBe('paused')
    srv.setFaults(f.path, { throttleBps: undefined })
    const res = await startEngine(
      f,
      finalPath,
      { sha256: f.sha256, connections: 4 },
      { segmentThreshold: MiB }
    ).result
    expect(res.outcome).toBe('completed')
    expect(res.sha256).toBe(f.sha256)
    expect(fileSha(finalPath)).toBe(f.sha256)
  })

  it('without an expected sha256 an idle thread hashes it: never checked, known after the install, on 1 or 8 connections', async () => {
    // Hashing costs about as much CPU as HTTPS itself: only a check may hold the
    // download; the content index's hash comes from CPU the download leaves unused.
    for (const connections of [1, 8]) {
      const { f, finalPath } = newFile(4 * MiB, { size: 0, seed: `unhashed${connections}` })
      const res = await startEngine(f, finalPath, { connections }, { segmentThreshold: MiB }).result
      expect(res).toMatchObject({ outcome: 'completed', sha256: null })
      expect(await res.sha256Later).toBe(f.sha256)
      expect(fileSha(finalPath)).toBe(f.sha256)
    }
  })

  it('with idleHash off (a one-shot process) a download without a sha256 is not hashed at all', async () => {
    const { f, finalPath } = newFile(2 * MiB, { size: 0, seed: 'no-idle' })
    const res = await startEngine(f, finalPath, {}, { idleHash: false }).result
    expect(res).toMatchObject({ outcome: 'completed', sha256: null })
    expect(res.sha256Later).toBeUndefined()
  })

  it('an idle FrontierHash runs on a thread of the lowest priority; a checked one does not', async () => {
    const { f, finalPath } = newFile(6 * MiB, { size: 0, seed: 'idle-nice' })
    // The download's own idle hash: settled, so its thread is at nice 19 already.
    expect(await (await startEngine(f, finalPath).result).sha256Later).toBe(f.sha256)
    // Threads of earlier hashes may still be ending: only new ones count.
    const before = nicestThreads()
    const checked = new FrontierHash(finalPath)
    const idle = new FrontierHash(finalPath, { idle: true })
    checked.advance(4 * MiB) // a whole message's worth (smaller steps wait for more)
    idle.advance(4 * MiB)
    // Both lower (or keep) their priority before the first byte they hash.
    await vi.waitFor(() => expect([checked.done(), idle.done()]).toEqual([4 * MiB, 4 * MiB]), {
      timeout: 60_000
    })
    expect([...nicestThreads()].filter((tid) => !before.has(tid))).toHaveLength(1)
    expect(await idle.digest(f.size)).toBe(f.sha256)
    expect(await checked.digest(f.size)).toBe(f.sha256)
  })

  it('files hashed at once share one hashing thread, and one file failing leaves the others', async () => {
    const files = [1, 2, 3].map((i) => newFile(3 * MiB + i, { size: 0, seed: `shared${i}` }))
    for (const { f, finalPath } of files) await startEngine(f, finalPath).result
    const threads = (): number => readdirSync('/proc/self/task').length
    const hashes = [new FrontierHash(files[0]!.finalPath)]
    // With one file's thread running, more files start no thread of their own
    // (an earlier test's thread may still be exiting: the count can only drop).
    const withOne = threads()
    hashes.push(...files.slice(1).map(({ finalPath }) => new FrontierHash(finalPath)))
    const missing = new FrontierHash(join(files[0]!.finalPath, '..', 'gone.safetensors'))
    expect(threads()).toBeLessThanOrEqual(withOne)
    for (let end = 0; end < 3 * MiB; end += 512 * 1024) for (const h of hashes) h.advance(end)
    await expect(missing.digest(MiB)).rejects.toThrow()
    expect(missing.dead).toBe(true)
    const got = await Promise.all(hashes.map((h, i) => h.digest(files[i]!.f.size)))
    expect(got).toEqual(files.map(({ f }) => f.sha256))
    // Ended with the last file; the next file starts a thread of its own again.
    const again = new FrontierHash(files[1]!.finalPath)
    expect(await again.digest(files[1]!.f.size)).toBe(files[1]!.f.sha256)
  })

  it('FrontierHash alone: advancing in steps gives the hash of the whole file', async () => {
    const { f, finalPath } = newFile(5 * MiB + 3, { size: 0, seed: 'alone' })
    await startEngine(f, finalPath).result
    const h = new FrontierHash(finalPath)
    for (let end = 0; end < f.size; end += 1_234_567) h.advance(end)
    expect(await h.digest(f.size)).toBe(f.sha256)
  })
})
