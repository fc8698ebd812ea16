// The raw HTTP body path (src/main/engine/rawHttp.ts): plain `http:` bodies
// read through one reused socket buffer and written synchronously. These check
// that it is really the path taken, and that resume, fallback, redirects,
// pause and work stealing behave as on the undici path.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  contentOf,
  startModelServer,
  type ModelServer,
  type ServedFile
} from '../harness/modelServer'
import { fileSha, startEngine } from '../support/engine'
import { rawGet } from '../../src/main/engine/rawHttp'
import type { EngineProgress } from '../../src/main/engine/types'
import { waitFor } from '../support/wait'
import { withErrorListener } from '../support/listeners'

const MiB = 1024 * 1024
let srv: ModelServer
const dirs: string[] = []
let n = 0

beforeAll(async () => {
  srv = await startModelServer()
})
afterAll(async () => {
  await srv.close()
})
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function newFile(size: number, faults: Parameters<ModelServer['addFile']>[1] = { size }) {
  const f = srv.addFile(`/raw/${++n}/model.safetensors`, { ...faults, size })
  const dir = mkdtempSync(join(tmpdir(), 'engine-raw-'))
  dirs.push(dir)
  return { f, finalPath: join(dir, 'model.safetensors') }
}

const sha = fileSha

/** The engine with no stall timeout a busy machine could reach: the retries
 *  and requests these tests count come from the faults they inject, never from
 *  a test process starved of CPU for a moment (the stall test sets its own). */
const start = (...[f, finalPath, job, opts]: Parameters<typeof startEngine>) =>
  startEngine(f, finalPath, job, { stallTimeoutMs: 600_000, ...opts })

const untilDownloaded = (progress: EngineProgress[], bytes: number): Promise<unknown> =>
  waitFor(() => (progress.at(-1)?.downloaded ?? 0) >= bytes, `${bytes} bytes on disk`)

/** Range requests that came over the raw path (it alone sends `Connection: close`). */
const rawRequests = (f: ServedFile, host = 'primary') =>
  srv
    .requestsFor(f.path)
    .filter((r) => r.host === host && r.headers.connection === 'close' && r.headers.range)

describe('raw HTTP body path', () => {
  it('carries the body of a plain http: download, hashing while writing', async () => {
    const { f, finalPath } = newFile(8 * MiB, { size: 0 })
    const res = await start(f, finalPath, { sha256: f.sha256 }).result
    expect(res.outcome).toBe('completed')
    expect(res.sha256).toBe(f.sha256)
    expect(sha(finalPath)).toBe(f.sha256)
    // One request in all: the first answer (size, validator) is the download itself.
    expect(srv.requestsFor(f.path)).toHaveLength(1)
    const raw = rawRequests(f)
    expect(raw).toHaveLength(1)
    expect(raw[0]!.headers.range).toBe('bytes=0-')
    expect(raw[0]!.headers['accept-encoding']).toBe('identity')
  })

  it('resumes from the last written byte when the connection drops mid-body', async () => {
    const { f, finalPath } = newFile(4 * MiB, { size: 0, dropAfterBytes: MiB, dropTimes: 3 })
    const res = await start(f, finalPath, { sha256: f.sha256 }).result
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    const starts = rawRequests(f).map((r) =>
      Number(/bytes=(\d+)-/.exec(String(r.headers.range))![1])
    )
    expect(starts.filter((s) => s > 0).length).toBeGreaterThanOrEqual(3)
    expect(srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size * 1.02)
  })

  it('falls back to undici for a chunked body and does not try the raw path again', async () => {
    const { f, finalPath } = newFile(3 * MiB, {
      size: 0,
      noContentLength: true,
      dropAfterBytes: MiB,
      dropTimes: 3
    })
    const res = await start(f, finalPath, { sha256: f.sha256 }).result
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    // The probe's request alone: the retries after each drop go straight to undici.
    expect(rawRequests(f)).toHaveLength(1)
  })

  it('reads the body raw from the redirect target, with no token sent there', async () => {
    const { f, finalPath } = newFile(4 * MiB, {
      size: 0,
      requireToken: 's3cret',
      redirectToSecond: true
    })
    const primary = new URL(f.url).host
    const auth = (u: URL) => (u.host === primary ? 'Bearer s3cret' : undefined)
    const res = await start(f, finalPath, { sha256: f.sha256 }, { auth }).result
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    expect(rawRequests(f, 'second').length).toBeGreaterThanOrEqual(1)
    for (const r of srv.requestsFor(f.path).filter((l) => l.host === 'second'))
      expect(r.headers.authorization).toBeUndefined()
  })

  it('a pause mid-body keeps a .part whose sidecar counts only written bytes', async () => {
    const { f, finalPath } = newFile(6 * MiB, { size: 0, holdAt: 3 * MiB })
    const r = start(f, finalPath)
    await untilDownloaded(r.progress, 2 * MiB)
    r.ctl.abort('pause')
    const paused = await r.result
    expect(paused.outcome).toBe('paused')
    expect(existsSync(finalPath)).toBe(false)
    const side = JSON.parse(readFileSync(finalPath + '.part.json', 'utf8'))
    const done = side.segments[0].done as number
    expect(done).toBeGreaterThanOrEqual(2 * MiB)
    // The bytes the sidecar claims are the file's bytes.
    const part = readFileSync(finalPath + '.part')
    expect(part.subarray(0, done).equals(contentOf(f.size, 'podpull', 0, done))).toBe(true)

    await waitFor(() => srv.openResponses(f.path) === 0, 'the paused request closed')
    srv.setFaults(f.path, { holdAt: undefined })
    const res = await start(f, finalPath).result
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    expect(paused.bytesFetched + res.bytesFetched).toBeLessThanOrEqual(f.size * 1.02)
  })

  it('bytes read before the server goes quiet reach the file without waiting for more', async () => {
    const { f, finalPath } = newFile(6 * MiB, { size: 0, holdAt: 3 * MiB + 12345 })
    // A stall would hand the bytes over too: keep it out of reach of this test.
    const r = start(f, finalPath, {}, { stallTimeoutMs: 600_000 })
    // The server holds the rest: every byte it sent must still be handed over.
    await untilDownloaded(r.progress, 3 * MiB + 12345)
    r.ctl.abort('pause')
    expect((await r.result).outcome).toBe('paused')
    const side = JSON.parse(readFileSync(finalPath + '.part.json', 'utf8'))
    expect(side.segments[0].done).toBe(3 * MiB + 12345)
    srv.setFaults(f.path, { holdAt: undefined })
  })

  it('stops at the new end when another connection takes the tail (work stealing)', async () => {
    // Paused at a gate: the server sent exactly what reached the file.
    const { f, finalPath } = newFile(16 * MiB, { size: 0, holdAt: 2 * MiB })
    const first = start(f, finalPath)
    await untilDownloaded(first.progress, 2 * MiB)
    first.ctl.abort('pause')
    const paused = await first.result
    expect(paused.outcome).toBe('paused')
    srv.setFaults(f.path, { holdAt: undefined, throttleBps: 8 * MiB })
    // Resumed with 4 connections: the one segment is being read to its end
    // when the others cut its tail off and take it.
    const since = srv.requestsFor(f.path).length
    const res = await start(f, finalPath, { connections: 4 }, { segmentThreshold: MiB }).result
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    const ranges = srv
      .requestsFor(f.path)
      .slice(since)
      .filter((r) => r.headers.connection === 'close')
      .map((r) => String(r.headers.range))
    expect(ranges.length).toBeGreaterThanOrEqual(4)
    expect(ranges.some((r) => r.endsWith(`-${f.size - 1}`) && !r.startsWith('bytes=0-'))).toBe(true)
    // Each request asks for a bounded span and a taken-over tail starts past it:
    // nothing is fetched twice.
    expect(paused.bytesFetched + res.bytesFetched).toBeLessThanOrEqual(f.size * 1.01)
    expect(srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size * 1.02)
  })

  it('retries a 503 answered to the raw request, and gives up on a 404 with the usual sentence', async () => {
    const { f, finalPath } = newFile(4 * MiB, {
      size: 0,
      throttleBps: 4 * MiB,
      dropAfterBytes: MiB
    })
    const r = start(f, finalPath)
    await untilDownloaded(r.progress, MiB / 2)
    // The next attempts (raw, from the byte where the drop left off) meet two 503s first.
    srv.setFaults(f.path, { failStatus: 503, failTimes: 2, dropAfterBytes: undefined })
    const res = await r.result
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    const refused = srv.requestsFor(f.path).filter((l) => l.status === 503)
    expect(refused.map((l) => l.headers.connection)).toEqual(['close', 'close'])

    const g = newFile(4 * MiB, { size: 0, throttleBps: 4 * MiB, dropAfterBytes: MiB })
    const r2 = start(g.f, g.finalPath)
    await untilDownloaded(r2.progress, MiB / 2)
    srv.setFaults(g.f.path, { failStatus: 404, failTimes: 100 })
    await expect(r2.result).rejects.toThrow(/not found \(404\)/)
  })

  it('retries a stalled raw body', async () => {
    // The first answer stops after 1 MiB and stays open; the retry's answer, for
    // the second MiB only, ends before the stall point.
    const { f, finalPath } = newFile(2 * MiB, { size: 0, stallAfterBytes: MiB })
    const res = await start(f, finalPath, {}, { stallTimeoutMs: 2000 }).result
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    expect(res.bytesFetched).toBeLessThanOrEqual(f.size * 1.02)
    expect(rawRequests(f).some((r) => String(r.headers.range).startsWith(`bytes=${MiB}-`))).toBe(
      true
    )
  })
})

describe('rawGet', () => {
  /** A server that sends its head a few bytes per write, then the body. */
  async function dribblingServer(body: Buffer): Promise<{ url: URL; close: () => void }> {
    const server = withErrorListener(
      net.createServer((sock) => {
        withErrorListener(sock)
        sock.once('data', async () => {
          const head = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nX-Long: ${'a'.repeat(3000)}\r\n\r\n`
          for (let i = 0; i < head.length; i += 7) {
            sock.write(head.slice(i, i + 7))
            await new Promise((res) => setTimeout(res, i % 700 === 0 ? 1 : 0))
          }
          sock.end(body)
        })
      })
    )
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
    const { port } = server.address() as net.AddressInfo
    return { url: new URL(`http://127.0.0.1:${port}/x`), close: () => server.close() }
  }

  it('parses a head split across many reads and hands over every body byte once', async () => {
    const body = contentOf(3 * MiB + 17, 'dribble', 0, 3 * MiB + 17)
    const s = await dribblingServer(body)
    try {
      const res = await rawGet(
        s.url,
        { signal: new AbortController().signal, auth: () => undefined },
        Buffer.allocUnsafe(64 * 1024)
      )
      expect(res.status).toBe(200)
      expect(res.length).toBe(body.length)
      expect(res.headers['x-long']).toHaveLength(3000)
      const got: Buffer[] = []
      await res.pump((buf, a, b) => got.push(Buffer.from(buf.subarray(a, b))) > 0)
      expect(Buffer.concat(got).equals(body)).toBe(true)
    } finally {
      s.close()
    }
  })

  it('rejects on abort mid-body', async () => {
    const { f } = newFile(4 * MiB, { size: 0, throttleBps: MiB })
    const ctl = new AbortController()
    const res = await rawGet(new URL(f.url), { signal: ctl.signal, auth: () => undefined })
    let got = 0
    const pumped = res.pump((_buf, a, b) => {
      got += b - a
      if (got > 100_000) ctl.abort(new Error('stop'))
      return true
    })
    await expect(pumped).rejects.toThrow('stop')
    expect(got).toBeLessThan(f.size)
  })
})
