// The share of a workspace's cap each downloading process takes: the cap over
// the fresh heartbeats in `.podpull/bandwidth/`, with the clock injected (each
// heartbeat's time is the one the test gives it).
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import {
  BandwidthShare,
  FRESH_MS,
  freshCount,
  shareOf
} from '../../src/main/targets/local/bandwidthShare'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
const workspace = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'podpull-share-'))
  dirs.push(d)
  return d
}

it('divides the cap by the processes downloading, and leaves it whole when unlimited', () => {
  expect(shareOf(20e6, 1)).toBe(20e6)
  expect(shareOf(20e6, 4)).toBe(5e6)
  expect(shareOf(20e6, 0)).toBe(20e6)
  expect(shareOf(null, 3)).toBeNull()
  const now = 1_800_000_000_000
  expect(freshCount([now, now - FRESH_MS + 1, now - FRESH_MS, 0], now)).toBe(2)
})

it('counts the processes whose heartbeat is fresh; one that leaves or goes quiet stops counting', async () => {
  const ws = workspace()
  const a = new BandwidthShare(ws, 'local-a')
  const b = new BandwidthShare(ws, 'local-b')
  const c = new BandwidthShare(ws, 'helper-job')
  const t0 = 1_800_000_000_000
  expect(await a.beat(t0)).toBe(1)
  expect(await b.beat(t0 + 500)).toBe(2)
  expect(await c.beat(t0 + 900)).toBe(3)
  // c goes quiet (killed: no leave); a and b beat on.
  expect(await a.beat(t0 + 2000)).toBe(3)
  expect(await b.beat(t0 + 900 + FRESH_MS)).toBe(2)
  await b.leave()
  expect(readdirSync(join(ws, '.podpull', 'bandwidth')).sort()).toEqual(['helper-job', 'local-a'])
  expect(await a.beat(t0 + 900 + FRESH_MS)).toBe(1)
})

it('an unwritable workspace leaves the process the whole cap', async () => {
  // A workspace that is a file: nothing can be made under it.
  const file = join(workspace(), 'not-a-folder')
  writeFileSync(file, '')
  const share = new BandwidthShare(file, 'local-x')
  expect(await share.beat()).toBe(1)
})
