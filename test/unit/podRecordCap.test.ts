// A pod's status file is written by whatever runs on the pod. The app keeps a
// bounded part of it: in memory, on the dashboard and in the snapshot cache it
// saves in the settings file.
import { describe, expect, it } from 'vitest'
import type { DownloadRecord } from '../../src/shared/types'
import { PodRecords, type PodRecordsHooks } from '../../src/main/targets/pod/podRecords'
import { MAX_POD_RECORD_BYTES, MAX_POD_RECORDS } from '../../src/main/targets/pod/podRecordCap'

const hex = (i: number): string => i.toString(16).padStart(16, '0')

/** A status file of `n` entries; `over` picks each one's fields. */
function statusFile(n: number, over: (i: number) => Record<string, unknown> = () => ({})) {
  const file: Record<string, unknown> = {}
  for (let i = 0; i < n; i++)
    file[`/workspace/ComfyUI/models/loras/f${i}.safetensors`] = {
      id: hex(i),
      status: 'completed',
      url: `https://example.com/f${i}.safetensors`,
      timestamp: 1_700_000_000 + i,
      progress: 100,
      ...over(i)
    }
  return file
}

function records(cached: DownloadRecord[] = []) {
  const saved: DownloadRecord[][] = []
  const notices: (string | null)[] = []
  const hooks: PodRecordsHooks = {
    changed: () => undefined,
    save: (r) => saved.push(r),
    cacheInfo: () => ({ freeBytes: null, comfyui: null, lastSeen: null }),
    autoResume: () => false,
    owned: () => false,
    resume: async () => undefined,
    resumeFailed: () => undefined,
    noticeChanged: (n) => notices.push(n)
  }
  const r = new PodRecords('pod', cached, hooks)
  return { r, saved, notices, savedBytes: () => Buffer.byteLength(JSON.stringify(saved.at(-1))) }
}

describe('the records kept of a pod', () => {
  it('past the count cap: the running, then the resumable, then the newest are kept, and the card says so', () => {
    const { r, saved, notices } = records()
    const n = MAX_POD_RECORDS + 1000
    // The oldest entries are the ones still running or paused: kept first.
    r.apply(statusFile(n, (i) => (i < 3 ? { status: i === 0 ? 'downloading' : 'paused' } : {})))
    expect(r.list()).toHaveLength(MAX_POD_RECORDS)
    const ids = new Set(r.list().map((x) => x.id))
    for (const i of [0, 1, 2, n - 1]) expect(ids.has(hex(i)), hex(i)).toBe(true)
    expect(ids.has(hex(3))).toBe(false) // the oldest completed one went
    expect(r.notice).toMatch(/lists 6,000 downloads, more than PodPull keeps for one pod/)
    expect(notices).toEqual([r.notice])
    r.flush()
    expect(saved.at(-1)).toHaveLength(MAX_POD_RECORDS)
    // Back under the cap: all are kept and the notice goes.
    r.apply(statusFile(10))
    expect(r.list()).toHaveLength(10)
    expect(r.notice).toBe(null)
    expect(notices.at(-1)).toBe(null)
  })

  it('past the size cap: what fits in it is kept and saved', () => {
    const { r, savedBytes } = records()
    // 400 entries of 40 KB each (error texts): 16 MB, twice the cap.
    r.apply(statusFile(400, () => ({ status: 'error', error: 'x'.repeat(40_000) })))
    r.flush()
    expect(savedBytes()).toBeLessThanOrEqual(MAX_POD_RECORD_BYTES)
    expect(r.list().length).toBeGreaterThan(100)
    expect(r.list().length).toBeLessThan(400)
    expect(r.notice).toMatch(/8 MiB/)
  })

  it('a cache past the cap (an edited settings file) is cut down as it loads', () => {
    const { r: source } = records()
    const big = statusFile(MAX_POD_RECORDS)
    source.apply(big)
    const huge = [...source.list(), ...source.list().map((x) => ({ ...x, id: x.id + 'b' }))]
    const { r } = records(huge)
    expect(r.list()).toHaveLength(MAX_POD_RECORDS)
    expect(r.notice).toMatch(/lists 10,000 downloads/)
  })
})
