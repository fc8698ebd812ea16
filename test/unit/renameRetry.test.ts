// Windows refuses a rename for a moment while an antivirus scanner or the
// indexer holds the file (EPERM / EACCES / EBUSY). The status file, the sidecar
// and the install rename retry those briefly on win32 and nowhere else; a file
// held for good still fails, with a sentence that says so.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { RENAME_RETRY_MS, renameRetrying } from '../../src/main/engine/renameRetry'
import { readSidecar, writeSidecar, type Sidecar } from '../../src/main/engine/sidecar'
import { writeStatusAtomic } from '../../src/main/status/statusFile'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { fileSha, startEngine } from '../support/engine'

/** Codes the next renames fail with, one per call; empty: the real rename. */
const failNext: string[] = []
/** Every rename asked of node:fs/promises, [from, to]. */
const renames: [string, string][] = []

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof fsp>()
  const rename = async (from: string, to: string): Promise<void> => {
    renames.push([from, to])
    const code = failNext.shift()
    if (code) throw errno(code, from, to)
    return real.rename(from, to)
  }
  return { ...real, rename, default: { ...real, rename } }
})

function errno(code: string, from = 'a', to = 'b'): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: rename '${from}' -> '${to}'`)
  e.code = code
  return e
}

/** A rename that fails with `codes`, in turn, then succeeds; and the waits asked for. */
function flaky(codes: string[]): { calls: () => number; waits: number[]; o: object } {
  let calls = 0
  const waits: number[] = []
  const rename = async (): Promise<void> => {
    const code = codes[calls++]
    if (code) throw errno(code)
  }
  const sleep = async (ms: number): Promise<void> => void waits.push(ms)
  return { calls: () => calls, waits, o: { rename, sleep } }
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)

describe('renameRetrying', () => {
  it('on win32, rides out EPERM, EBUSY and EACCES and then renames', async () => {
    const f = flaky(['EPERM', 'EBUSY', 'EACCES', 'EPERM'])
    await renameRetrying('a', 'b', { platform: 'win32', ...f.o })
    expect(f.calls()).toBe(5)
    expect(f.waits).toEqual([10, 20, 40, 80])
  })

  it('on win32, a file held for good fails after about a second, saying why', async () => {
    const f = flaky(Array<string>(100).fill('EBUSY'))
    const err = (await renameRetrying('x.tmp', 'C:\\ws\\status.json', {
      platform: 'win32',
      ...f.o
    }).catch((e: unknown) => e)) as NodeJS.ErrnoException
    expect(err.message).toBe(
      'Could not replace C:\\ws\\status.json (EBUSY): another program (an antivirus scanner ' +
        `or the search indexer) kept it open for ${RENAME_RETRY_MS} ms.`
    )
    expect(err.code).toBe('EBUSY')
    expect((err.cause as NodeJS.ErrnoException).code).toBe('EBUSY')
    expect(sum(f.waits)).toBe(RENAME_RETRY_MS)
    expect(f.calls()).toBe(f.waits.length + 1)
  })

  it('fails at once on other systems (EPERM is permanent there) and on other errors', async () => {
    const linux = flaky(['EPERM'])
    await expect(renameRetrying('a', 'b', { platform: 'linux', ...linux.o })).rejects.toThrow(
      /^EPERM: rename/
    )
    expect(linux.calls()).toBe(1)
    const missing = flaky(['ENOENT'])
    await expect(renameRetrying('a', 'b', { platform: 'win32', ...missing.o })).rejects.toThrow(
      /^ENOENT: rename/
    )
    expect(missing.calls()).toBe(1)
    expect([...linux.waits, ...missing.waits]).toEqual([])
  })
})

describe('the status file, the sidecar and the install retry on win32', () => {
  let dir: string
  let srv: ModelServer
  const platform = Object.getOwnPropertyDescriptor(process, 'platform')!
  beforeAll(async () => {
    srv = await startModelServer()
  })
  afterAll(async () => {
    await srv.close()
  })
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'podpull-rename-'))
    Object.defineProperty(process, 'platform', { ...platform, value: 'win32' })
    renames.length = 0
  })
  afterEach(() => {
    Object.defineProperty(process, 'platform', platform)
    failNext.length = 0
  })

  it('writes the status file over a scanned one', async () => {
    const file = join(dir, '.download_status.json')
    writeFileSync(file, '{}\n')
    failNext.push('EPERM', 'EBUSY')
    await writeStatusAtomic(file, { '/m/a.safetensors': { status: 'queued' } })
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      '/m/a.safetensors': { status: 'queued' }
    })
    expect(renames).toHaveLength(3)
  })

  it('writes the sidecar over a scanned one', async () => {
    const final = join(dir, 'model.safetensors')
    const sc: Sidecar = {
      version: 1,
      id: 'a1b2c3d4e5f60718',
      url: 'https://h.example/m',
      final_path: final,
      size: 10,
      etag: '"e"',
      last_modified: null,
      sha256: null,
      segments: [{ start: 0, end: 10, done: 4 }],
      created: 1,
      updated: 2
    }
    failNext.push('EACCES')
    await writeSidecar(final, sc)
    expect(await readSidecar(final)).toMatchObject({ id: sc.id, segments: sc.segments })
  })

  it('installs the finished file while the scanner holds the .part', async () => {
    const f = srv.addFile('/rename/model.safetensors', { size: 64 * 1024, seed: 'rn' })
    const final = join(dir, 'model.safetensors')
    failNext.push('EBUSY', 'EBUSY', 'EPERM')
    const run = startEngine(f, final)
    await expect(run.result).resolves.toMatchObject({ outcome: 'completed' })
    expect(fileSha(final)).toBe(f.sha256)
    expect(renames.some(([from, to]) => from === `${final}.part` && to === final)).toBe(true)
  })

  it('a status file held for good: a clear error, and no temp file left behind', async () => {
    const file = join(dir, '.download_status.json')
    failNext.push(...Array<string>(100).fill('EPERM'))
    await expect(writeStatusAtomic(file, {})).rejects.toThrow(
      /^Could not replace .*\.download_status\.json \(EPERM\): another program/
    )
    expect(existsSync(file)).toBe(false)
    expect(readdirSync(dir)).toEqual([])
  })
})
