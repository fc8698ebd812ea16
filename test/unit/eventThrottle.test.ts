import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DownloadEventThrottle } from '../../src/main/core/eventThrottle'
import type { DownloadRecord, DownloadsChangedEvent } from '../../src/shared/types'

const rec = (id: string, rev: number, downloaded = rev): DownloadRecord => ({
  id,
  targetId: 't',
  path: `/m/${id}`,
  url: 'https://x',
  folder: 'loras',
  filename: id,
  state: 'downloading',
  progress: 0,
  fileSize: 100,
  downloaded,
  speed: 0,
  eta: null,
  error: null,
  startTime: 0,
  timestamp: 0,
  sha256: null,
  source: 'direct',
  connections: 1,
  attempts: 1,
  rev
})

describe('DownloadEventThrottle', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('sends at most 4 events a second, each with the newest revision', () => {
    const out: DownloadsChangedEvent[] = []
    const t = new DownloadEventThrottle(
      (e) => out.push(e),
      4,
      () => Date.now()
    )
    for (let i = 1; i <= 100; i++) {
      t.push({ targetId: 't', upserts: [rec('a', i)], removed: [] })
      vi.advanceTimersByTime(10) // 100 reports over one second
    }
    vi.advanceTimersByTime(300)
    expect(out.length).toBeLessThanOrEqual(5)
    expect(out.length).toBeGreaterThanOrEqual(3)
    expect(out.at(-1)!.upserts[0]!.rev).toBe(100)
  })

  it('a removal drops older pending upserts; a newer upsert revives', () => {
    const out: DownloadsChangedEvent[] = []
    const t = new DownloadEventThrottle((e) => out.push(e))
    t.push({ targetId: 't', upserts: [rec('a', 1), rec('b', 1)], removed: [] })
    t.push({ targetId: 't', upserts: [], removed: [{ id: 'a', rev: 2 }] })
    t.push({ targetId: 't', upserts: [rec('b', 0)], removed: [] }) // older rev of b ignored
    t.flush()
    expect(out).toEqual([{ targetId: 't', upserts: [rec('b', 1)], removed: [{ id: 'a', rev: 2 }] }])
  })
  it('a download that ends goes out on the next turn, not after the interval', () => {
    const out: DownloadsChangedEvent[] = []
    const t = new DownloadEventThrottle((e) => out.push(e))
    t.push({ targetId: 't', upserts: [rec('a', 1)], removed: [] })
    vi.advanceTimersByTime(0)
    expect(out).toHaveLength(1) // the first progress report is not held back either
    t.push({ targetId: 't', upserts: [rec('a', 2)], removed: [] })
    vi.advanceTimersByTime(50)
    expect(out).toHaveLength(1) // progress waits out the 250 ms interval …
    const done = { ...rec('a', 3), state: 'completed' as const }
    const other = { ...rec('b', 1), state: 'paused' as const }
    t.push({ targetId: 't', upserts: [done], removed: [] })
    t.push({ targetId: 't', upserts: [other], removed: [] })
    vi.advanceTimersByTime(1)
    // … the end does not, and ends in the same turn share one event.
    expect(out).toHaveLength(2)
    expect(out[1]!.upserts).toEqual([done, other])
  })
})
