// The download engine against the real loopback model server: what a user
// would notice — the right bytes under the right name, resumes that don't
// re-fetch, clear errors, tokens only where they belong.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startModelServer, type ModelServer, type ServedFile } from '../harness/modelServer'
import { waitFor } from '../support/wait'
import { sidecarDone } from '../support/partFiles'
import { fileSha, startEngine, type EngineRun } from '../support/engine'
import { EngineError } from '../../src/main/engine/types'

const MiB = 1024 * 1024
let srv: ModelServer
let dir: string
let n = 0

beforeAll(async () => {
  srv = await startModelServer()
})
afterAll(async () => {
  await srv.close()
})
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function newFile(size: number, faults: Parameters<ModelServer['addFile']>[1] = { size }) {
  const f = srv.addFile(`/m/${++n}/model.safetensors`, { ...faults, size })
  dir = mkdtempSync(join(tmpdir(), 'engine-'))
  return { f, finalPath: join(dir, 'model.safetensors') }
}

const sha = fileSha

type Run = EngineRun

const start = startEngine

const run = (...args: Parameters<typeof start>) => start(...args).result

async function failure(p: Promise<unknown>): Promise<EngineError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(EngineError)
  return err as EngineError
}

/** Resolves once the download has `bytes` on disk, per its progress reports. */
const untilDownloaded = (r: Run, bytes: number): Promise<unknown> =>
  waitFor(() => (r.progress.at(-1)?.downloaded ?? 0) >= bytes, `${bytes} bytes on disk`)

const rangeStarts = (f: ServedFile, since = 0): number[] =>
  srv
    .requestsFor(f.path)
    .slice(since)
    .map((r) => /bytes=(\d+)-/.exec(String(r.headers.range ?? ''))?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)

describe('runDownload: the happy path', () => {
  it('installs the exact bytes under the final name and leaves no partial files', async () => {
    const { f, finalPath } = newFile(3 * MiB)
    const r = start(f, finalPath)
    const res = await r.result
    expect(res.outcome).toBe('completed')
    expect(res.fileSize).toBe(f.size)
    expect(sha(finalPath)).toBe(f.sha256)
    expect(existsSync(finalPath + '.part')).toBe(false)
    expect(existsSync(finalPath + '.part.json')).toBe(false)
    const states = r.progress.map((p) => p.state)
    expect(states[0]).toBe('starting')
    expect(states).toContain('downloading')
    expect(states.at(-1)).toBe('verifying')
    expect(res.bytesFetched).toBeLessThanOrEqual(f.size + 1)
  })

  it('verifies a given sha256 while streaming and returns it', async () => {
    const { f, finalPath } = newFile(2 * MiB)
    const res = await run(f, finalPath, { sha256: f.sha256.toUpperCase() })
    expect(res.sha256).toBe(f.sha256)
    expect(sha(finalPath)).toBe(f.sha256)
  })

  it('downloads a chunked body with no Content-Length', async () => {
    const { f, finalPath } = newFile(2 * MiB + 17, { size: 0, noContentLength: true })
    const res = await run(f, finalPath)
    expect(res.fileSize).toBe(f.size)
    expect(sha(finalPath)).toBe(f.sha256)
  })

  it('installs an empty file', async () => {
    const { f, finalPath } = newFile(0)
    const res = await run(f, finalPath)
    expect(res.outcome).toBe('completed')
    expect(readFileSync(finalPath).length).toBe(0)
  })

  it('reports a speed and an ETA that agree with it once bytes have moved', async () => {
    // The server holds the body at 1 MiB, so the reports are read while the
    // download is certainly mid-way, whatever the machine's load.
    const { f, finalPath } = newFile(2 * MiB, { size: 0, holdAt: MiB })
    const r = start(f, finalPath)
    const moving = () =>
      r.progress.findLast((p) => p.state === 'downloading' && p.downloaded > 0 && p.speed > 0)
    await waitFor(() => moving() !== undefined, 'a report with a speed')
    const p = moving()!
    expect(p.fileSize).toBe(2 * MiB)
    expect(Number.isFinite(p.speed)).toBe(true)
    expect(p.eta).not.toBeNull()
    expect(Number.isFinite(p.eta)).toBe(true)
    expect(p.eta!).toBeCloseTo((p.fileSize! - p.downloaded) / p.speed, 6)
    srv.setFaults(f.path, { holdAt: undefined })
    expect((await r.result).outcome).toBe('completed')
    // Once the bytes are in, nothing reports a speed any more.
    expect(r.progress.at(-1)!.speed).toBe(0)
  })
})

describe('runDownload: resume and restart', () => {
  it('survives the connection dropping mid-body three times', async () => {
    const { f, finalPath } = newFile(4 * MiB, { size: 0, dropAfterBytes: MiB, dropTimes: 3 })
    const res = await run(f, finalPath, { sha256: f.sha256 })
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    // Each retry asked only for the missing bytes.
    expect(rangeStarts(f).filter((s) => s > 0).length).toBeGreaterThanOrEqual(3)
    expect(srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size * 1.02)
  })

  it('pauses at about half, keeps the .part, and a new run fetches only the rest', async () => {
    const { f, finalPath } = newFile(4 * MiB, { size: 0, holdAt: 2 * MiB })
    const r = start(f, finalPath)
    await untilDownloaded(r, 2 * MiB)
    r.ctl.abort('pause')
    const paused = await r.result
    expect(paused.outcome).toBe('paused')
    expect(paused.resumable).toBe(true)
    expect(existsSync(finalPath)).toBe(false)
    const side = JSON.parse(readFileSync(finalPath + '.part.json', 'utf8'))
    expect(side).toMatchObject({ version: 1, url: f.url, final_path: finalPath, size: f.size })
    expect(side.segments[0].done).toBeGreaterThanOrEqual(2 * MiB - MiB)
    // A pause syncs the data, so the sidecar holds even after a reboot.
    expect(side.boot_id).toBeNull()

    await waitFor(() => srv.openResponses(f.path) === 0, 'the paused request closed')
    srv.setFaults(f.path, { holdAt: undefined })
    const before = srv.requestsFor(f.path).length
    const res = await run(f, finalPath)
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    const resumedAt = rangeStarts(f, before).filter((s) => s > 0)
    expect(resumedAt[0]).toBe(side.segments[0].done)
    const ifRange = srv.requestsFor(f.path).at(-1)!.headers['if-range']
    expect(ifRange).toBe(`"podpull-${f.size}"`)
    // What the engine took in over both runs: everything it had in hand at the
    // pause was written; only bytes still in socket buffers were lost.
    expect(paused.bytesFetched + res.bytesFetched).toBeLessThanOrEqual(f.size * 1.02)
    expect(srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size * 1.1)
  })

  it('resumes after a crash from whatever the last checkpoint says', async () => {
    const { f, finalPath } = newFile(6 * MiB, { size: 0, holdAt: 2 * MiB })
    const r = start(f, finalPath)
    // Wait for a checkpoint of all that was served, then take the files as a kill -9
    // would leave them.
    await waitFor(() => sidecarDone(finalPath + '.part.json') >= 2 * MiB, 'a checkpoint')
    const part = readFileSync(finalPath + '.part')
    const side = readFileSync(finalPath + '.part.json')
    r.ctl.abort('cancel')
    await r.result
    writeFileSync(finalPath + '.part', part)
    writeFileSync(finalPath + '.part.json', side)
    const claimed = JSON.parse(side.toString()).segments[0].done as number
    expect(claimed).toBeGreaterThan(MiB)

    await waitFor(() => srv.openResponses(f.path) === 0, 'the cancelled request closed')
    srv.setFaults(f.path, { holdAt: undefined })
    const served = srv.bytesServed(f.path)
    const res = await run(f, finalPath)
    expect(sha(finalPath)).toBe(f.sha256)
    expect(res.bytesFetched).toBeLessThanOrEqual(f.size - claimed + 2)
    expect(srv.bytesServed(f.path) - served).toBeLessThanOrEqual(f.size - claimed + 2)
  })

  it('does not trust an unsynced checkpoint after a reboot', async () => {
    const { f, finalPath } = newFile(8 * MiB, { size: 0, holdAt: 2 * MiB })
    const r = start(f, finalPath)
    await waitFor(() => sidecarDone(finalPath + '.part.json') > 0, 'a periodic checkpoint')
    const side = JSON.parse(readFileSync(finalPath + '.part.json', 'utf8'))
    const part = readFileSync(finalPath + '.part')
    r.ctl.abort('cancel')
    await r.result
    expect(side.boot_id).toMatch(/\w/) // periodic checkpoints are not synced
    // As a power loss would leave it: the claimed bytes never reached the disk.
    writeFileSync(finalPath + '.part', Buffer.alloc(part.length))
    writeFileSync(finalPath + '.part.json', JSON.stringify({ ...side, boot_id: 'another-boot' }))
    srv.setFaults(f.path, { holdAt: undefined })
    const res = await run(f, finalPath)
    expect(sha(finalPath)).toBe(f.sha256)
    expect(res.bytesFetched).toBeGreaterThanOrEqual(f.size)
  })

  it('restarts cleanly when the server ignores Range on resume', async () => {
    const { f, finalPath } = newFile(4 * MiB, { size: 0, holdAt: 2 * MiB })
    const r = start(f, finalPath)
    await untilDownloaded(r, MiB)
    r.ctl.abort('pause')
    expect((await r.result).outcome).toBe('paused')
    srv.setFaults(f.path, { holdAt: undefined, ignoreRange: true })
    const res = await run(f, finalPath, { sha256: f.sha256 })
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
  })

  it('throws the .part away when the file changed on the server between runs', async () => {
    const { f, finalPath } = newFile(4 * MiB, { size: 0, holdAt: 2 * MiB })
    const r = start(f, finalPath)
    await untilDownloaded(r, MiB)
    r.ctl.abort('pause')
    expect((await r.result).outcome).toBe('paused')
    // Same path, new content and ETag: splicing would give a corrupt file.
    const v2 = srv.addFile(f.path, { size: f.size, seed: 'version-2' })
    const before = srv.requestsFor(f.path).length
    const res = await run(v2, finalPath)
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(v2.sha256)
    expect(rangeStarts(v2, before).every((s) => s === 0)).toBe(true)
  })

  it('restarts cleanly when only the ETag changes mid-download (If-Range answered 200)', async () => {
    const { f, finalPath } = newFile(4 * MiB, { size: 0, dropAfterBytes: MiB, dropTimes: 1 })
    srv.setFaults(f.path, { dropAfterBytes: MiB, dropTimes: 1, etag: 'v1' })
    const r = start(f, finalPath)
    await untilDownloaded(r, 1).catch(() => undefined)
    srv.setFaults(f.path, { etag: 'v2' })
    const res = await r.result
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
  })
})

describe('runDownload: several connections', () => {
  it('runs 8 connections at once, each at its own offset, and gets the right bytes', async () => {
    // Every response stops after 256 KiB until the test opens the gate: the
    // connections are seen open together however slowly the machine runs them.
    const { f, finalPath } = newFile(8 * MiB, { size: 0, holdAfterBytes: MiB / 4 })
    const before = srv.requestsFor(f.path).length
    const r = start(
      f,
      finalPath,
      { connections: 8, sha256: f.sha256 },
      { segmentThreshold: MiB, stallTimeoutMs: 120_000 }
    )
    await waitFor(() => srv.openResponses(f.path) >= 8, '8 responses open at once')
    // The progress reports say so too (they come on a ticker: wait for one).
    await waitFor(() => r.progress.some((p) => p.connections >= 8), 'a report of 8 connections')
    srv.setFaults(f.path, { holdAfterBytes: undefined })
    const res8 = await r.result
    expect(res8.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    expect(new Set(rangeStarts(f, before)).size).toBeGreaterThanOrEqual(8)
    expect(res8.bytesFetched).toBeLessThanOrEqual(f.size * 1.05)
  })

  it('resumes every segment after a pause', async () => {
    // Every response stops after 512 KiB: four connections, 2 MiB, until resumed.
    const { f, finalPath } = newFile(8 * MiB, { size: 0, holdAfterBytes: MiB / 2 })
    const r = start(f, finalPath, { connections: 4 }, { segmentThreshold: MiB })
    await untilDownloaded(r, 2 * MiB)
    r.ctl.abort('pause')
    expect((await r.result).outcome).toBe('paused')
    const side = JSON.parse(readFileSync(finalPath + '.part.json', 'utf8'))
    expect(side.segments.length).toBeGreaterThanOrEqual(4)
    expect(side.segments.filter((s: { done: number }) => s.done > 0).length).toBeGreaterThan(1)

    await waitFor(() => srv.openResponses(f.path) === 0, 'the paused requests closed')
    srv.setFaults(f.path, { holdAfterBytes: undefined })
    const served = srv.bytesServed(f.path)
    const res = await run(f, finalPath, { connections: 4 }, { segmentThreshold: MiB })
    expect(sha(finalPath)).toBe(f.sha256)
    expect(served + (srv.bytesServed(f.path) - served)).toBeLessThanOrEqual(f.size * 1.02)
    expect(res.outcome).toBe('completed')
  })

  it('splits a resumed single-connection .part among the connections now asked for', async () => {
    const { f, finalPath } = newFile(8 * MiB, { size: 0, holdAt: MiB })
    const r = start(f, finalPath, { connections: 1 })
    await untilDownloaded(r, MiB)
    r.ctl.abort('pause')
    expect((await r.result).outcome).toBe('paused')
    await waitFor(() => srv.openResponses(f.path) === 0, 'the paused request closed')
    // The resumed responses stop after 256 KiB each until the test opens the gate.
    srv.setFaults(f.path, { holdAt: undefined, holdAfterBytes: MiB / 4 })
    const before = srv.requestsFor(f.path).length
    const resumed = start(
      f,
      finalPath,
      { connections: 6 },
      { segmentThreshold: MiB, stallTimeoutMs: 120_000 }
    )
    await waitFor(() => srv.openResponses(f.path) >= 4, 'the rest split over several connections')
    srv.setFaults(f.path, { holdAfterBytes: undefined })
    const res = await resumed.result
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    expect(new Set(rangeStarts(f, before)).size).toBeGreaterThanOrEqual(4)
    expect(srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size * 1.05)
  })

  it('uses one connection for a file below the segment threshold', async () => {
    const { f, finalPath } = newFile(3 * MiB)
    const before = srv.requestsFor(f.path).length
    const r = start(f, finalPath, { connections: 8 }, { segmentThreshold: 4 * MiB })
    expect((await r.result).outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    // The 1-byte probe, then one request for the whole file.
    expect(srv.requestsFor(f.path).length - before).toBe(2)
  })

  it('uses one connection when the server does not accept ranges', async () => {
    const { f, finalPath } = newFile(4 * MiB, { size: 0, ignoreRange: true })
    const before = srv.requestsFor(f.path).length
    const res = await run(f, finalPath, { connections: 8 }, { segmentThreshold: MiB })
    expect(sha(finalPath)).toBe(f.sha256)
    expect(res.outcome).toBe('completed')
    // The probe's full-body answer is reused: one request in all.
    expect(srv.requestsFor(f.path).length - before).toBe(1)
  })
})

describe('runDownload: retries', () => {
  it('honours Retry-After on 429', async () => {
    const { f, finalPath } = newFile(MiB, { size: 0, failStatus: 429, failTimes: 1, retryAfter: 1 })
    const r = start(f, finalPath)
    const res = await r.result
    expect(res.outcome).toBe('completed')
    // A lower bound only: the server asked for a second's wait, and load can only add to it.
    const [first, second] = srv.requestsFor(f.path)
    expect(first!.status).toBe(429)
    expect(second!.time - first!.time).toBeGreaterThanOrEqual(950)
    expect(r.progress.at(-1)!.attempts).toBe(2)
  })

  it('retries 5xx with backoff, then gives up with a clear error', async () => {
    const ok = newFile(MiB, { size: 0, failStatus: 503, failTimes: 2 })
    expect((await run(ok.f, ok.finalPath)).outcome).toBe('completed')
    const bad = newFile(MiB, { size: 0, failStatus: 500, failTimes: 100 })
    const err = await failure(run(bad.f, bad.finalPath, {}, { maxAttempts: 3 }))
    expect(err.code).toBe('http')
    expect(err.message).toMatch(/HTTP 500.*3 attempts/)
  })

  it('retries a stalled connection', async () => {
    const { f, finalPath } = newFile(3 * MiB, { size: 0, stallAfterBytes: MiB + 5 })
    const r = start(f, finalPath, { sha256: f.sha256 }, { stallTimeoutMs: 300 })
    const res = await r.result
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    expect(r.progress.at(-1)!.attempts).toBeGreaterThanOrEqual(3)
  })

  it('retries a stall on a server that ignores ranges (the probe answer is the body)', async () => {
    const { f, finalPath } = newFile(2 * MiB, { size: 0, ignoreRange: true, stallAfterBytes: MiB })
    const r = start(f, finalPath, {}, { stallTimeoutMs: 300, maxAttempts: 3 })
    setTimeout(() => srv.setFaults(f.path, { stallAfterBytes: undefined }), 500)
    const res = await r.result
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
    expect(r.progress.at(-1)!.attempts).toBeGreaterThanOrEqual(2)
  })

  it('gives up on a server that sends headers and then nothing, with a clear error', async () => {
    const { f, finalPath } = newFile(MiB, { size: 0, stall: true })
    const err = await failure(run(f, finalPath, {}, { stallTimeoutMs: 200, maxAttempts: 2 }))
    expect(err.code).toBe('network')
    // The first answer's body is the download: its silence is a stalled transfer.
    expect(err.message).toBe('The download kept failing (no data for 0.2 s) after 2 attempts.')
  })
})

describe('runDownload: refusals', () => {
  it('sends the token to its host only, never to the CDN it redirects to', async () => {
    const { f, finalPath } = newFile(MiB, {
      size: 0,
      requireToken: 's3cret',
      redirectToSecond: true
    })
    const primary = new URL(f.url).host
    const res = await run(
      f,
      finalPath,
      {},
      { auth: (u) => (u.host === primary ? 'Bearer s3cret' : undefined) }
    )
    expect(res.outcome).toBe('completed')
    const log = srv.requestsFor(f.path)
    expect(log.some((r) => r.host === 'second')).toBe(true)
    for (const r of log.filter((l) => l.host === 'second'))
      expect(r.headers.authorization).toBeUndefined()
    for (const r of log.filter((l) => l.host === 'primary'))
      expect(r.headers.authorization).toBe('Bearer s3cret')
  })

  it('names the missing token on 401, and keeps it out of the message', async () => {
    const { f, finalPath } = newFile(MiB, { size: 0, requireToken: 'right' })
    const hint = 'Hugging Face needs a token: set HF_TOKEN or add it in Settings.'
    const err = await failure(
      run(f, finalPath, {}, { auth: () => 'Bearer wrong-token', authHint: () => hint })
    )
    expect(err.code).toBe('auth')
    expect(err.message).toBe(hint)
    const plain = await failure(run(f, finalPath))
    expect(plain.message).toMatch(/refused access \(401\)/)
    expect(plain.message).not.toMatch(/wrong-token/)
    expect(existsSync(finalPath + '.part')).toBe(false)
  })

  it('refuses an HTML login page and leaves nothing under the final name', async () => {
    const { f, finalPath } = newFile(MiB, { size: 0, htmlLogin: true })
    const err = await failure(run(f, finalPath))
    expect(err.code).toBe('html')
    expect(err.message).toMatch(/web page instead of the model file/)
    srv.setFaults(f.path, { htmlLogin: undefined, authRedirect: true })
    const hint = 'Civitai needs an API token: set CIVITAI_API_TOKEN or add it in Settings.'
    const err2 = await failure(run(f, finalPath, {}, { authHint: () => hint }))
    expect(err2.code).toBe('html')
    expect(err2.message).toContain('CIVITAI_API_TOKEN')
    expect(existsSync(finalPath)).toBe(false)
    expect(existsSync(finalPath + '.part')).toBe(false)
  })

  it('spots a web page served as application/octet-stream', async () => {
    // A small file whose body is the login page, mislabelled.
    const { f, finalPath } = newFile(MiB, { size: 0, contentType: 'application/octet-stream' })
    srv.setFaults(f.path, { htmlLogin: true, contentType: 'application/octet-stream' })
    const err = await failure(run(f, finalPath))
    expect(err.code).toBe('html')
  })

  it('refuses a malformed sha256 before any request', async () => {
    const { f, finalPath } = newFile(MiB)
    const err = await failure(run(f, finalPath, { sha256: 'abc123' }))
    expect(err.code).toBe('bad-request')
    expect(srv.requestsFor(f.path)).toHaveLength(0)
  })

  it('says not found on 404', async () => {
    dir = mkdtempSync(join(tmpdir(), 'engine-'))
    const finalPath = join(dir, 'x.safetensors')
    const missing = { url: srv.url + '/nope/x.safetensors' } as ServedFile
    const err = await failure(run(missing, finalPath))
    expect(err.code).toBe('http')
    expect(err.message).toMatch(/not found \(404\)/)
  })

  it('checks free space before writing a byte', async () => {
    const { f, finalPath } = newFile(4 * MiB)
    const err = await failure(run(f, finalPath, {}, { freeSpace: async () => 3_100_000 }))
    expect(err.code).toBe('no-space')
    expect(err.message).toBe(`Not enough free space: needs 4.2 MB, 3.1 MB free at ${dir}.`)
    expect(existsSync(finalPath + '.part')).toBe(false)
  })

  it('removes a download whose sha256 does not match', async () => {
    const { f, finalPath } = newFile(MiB)
    const err = await failure(run(f, finalPath, { sha256: 'ab'.repeat(32) }))
    expect(err.code).toBe('checksum')
    expect(existsSync(finalPath)).toBe(false)
    expect(existsSync(finalPath + '.part')).toBe(false)
    const multi = await failure(
      run(f, finalPath, { sha256: 'cd'.repeat(32), connections: 4 }, { segmentThreshold: 1 })
    )
    expect(multi.code).toBe('checksum')
  })
})

describe('runDownload: what is already there', () => {
  it('reports already-present without fetching the file again', async () => {
    const { f, finalPath } = newFile(2 * MiB)
    await run(f, finalPath)
    const served = srv.bytesServed(f.path)
    const again = await run(f, finalPath)
    expect(again.outcome).toBe('already-present')
    expect(srv.bytesServed(f.path) - served).toBeLessThanOrEqual(1)
    const requests = srv.requestsFor(f.path).length
    const bySha = await run(f, finalPath, { sha256: f.sha256 })
    expect(bySha.outcome).toBe('already-present')
    expect(srv.requestsFor(f.path).length).toBe(requests)
  })

  it('refuses to replace a different file unless asked to overwrite', async () => {
    const { f, finalPath } = newFile(MiB)
    writeFileSync(finalPath, 'my own file')
    const err = await failure(run(f, finalPath))
    expect(err.code).toBe('exists')
    expect(err.message).toContain(finalPath)
    expect(readFileSync(finalPath, 'utf8')).toBe('my own file')
    const res = await run(f, finalPath, { overwrite: true })
    expect(res.outcome).toBe('completed')
    expect(sha(finalPath)).toBe(f.sha256)
  })
})

describe('runDownload: cancel', () => {
  it('removes the .part and its sidecar', async () => {
    const { f, finalPath } = newFile(4 * MiB, { size: 0, holdAt: 2 * MiB })
    const r = start(f, finalPath)
    await untilDownloaded(r, MiB)
    r.ctl.abort('cancel')
    const res = await r.result
    expect(res.outcome).toBe('cancelled')
    expect(existsSync(finalPath + '.part')).toBe(false)
    expect(existsSync(finalPath + '.part.json')).toBe(false)
    expect(existsSync(finalPath)).toBe(false)
  })
})
