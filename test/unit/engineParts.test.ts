// The engine's pure parts: segment planning and work stealing, backoff and
// Retry-After, the speed average, the sidecar's validation, and when one
// connection waits for the hashing thread.
import { describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  foldFinished,
  planSegments,
  splitLargest,
  takeFront,
  SEGMENT_ALIGN,
  type Segment
} from '../../src/main/engine/segmentPlanner'
import { backoffMs, retryAfterMs } from '../../src/main/engine/backoff'
import { HASH_LEAD_MAX, HashLeadGate } from '../../src/main/engine/frontierHash'
import { SpeedMeter } from '../../src/main/engine/speedMeter'
import {
  readSidecar,
  segmentsCover,
  writeSidecar,
  type Sidecar
} from '../../src/main/engine/sidecar'
import { formatBytes } from '../../src/shared/format'
import { strongValidator, totalFromContentRange } from '../../src/main/engine/remoteInfo'

const MiB = 1024 * 1024

describe('planSegments', () => {
  it('covers the file in aligned, nearly equal ranges', () => {
    const size = 100 * MiB + 12345
    const segs = planSegments(size, 8)
    expect(segs).toHaveLength(8)
    expect(segmentsCover(segs, size)).toBe(true)
    for (const s of segs.slice(0, -1)) expect(s.end % SEGMENT_ALIGN).toBe(0)
    const lengths = segs.map((s) => s.end - s.start)
    expect(Math.max(...lengths) - Math.min(...lengths)).toBeLessThan(2 * SEGMENT_ALIGN + 12345)
  })

  it('never makes ranges smaller than the minimum, and at least one', () => {
    expect(planSegments(3 * MiB, 16)).toHaveLength(3)
    expect(planSegments(100, 8)).toEqual([{ start: 0, end: 100, done: 0 }])
    expect(planSegments(0, 8)).toEqual([{ start: 0, end: 0, done: 0 }])
  })
})

describe('splitLargest', () => {
  it('gives the second half of the busiest range to an idle connection', () => {
    const segs: Segment[] = [
      { start: 0, end: 8 * MiB, done: 8 * MiB },
      { start: 8 * MiB, end: 24 * MiB, done: 2 * MiB },
      { start: 24 * MiB, end: 28 * MiB, done: 0 }
    ]
    const busy = new Set([segs[1]!, segs[2]!])
    const piece = splitLargest(segs, busy, () => 0)!
    expect(piece).toEqual({ start: 17 * MiB, end: 24 * MiB, done: 0 })
    expect(segs[1]!.end).toBe(17 * MiB)
    expect(segs.map((s) => s.start)).toEqual([0, 8 * MiB, 17 * MiB, 24 * MiB])
    expect(segmentsCover(segs, 28 * MiB)).toBe(true)
  })

  it('never cuts into bytes a connection already holds', () => {
    const segs: Segment[] = [{ start: 0, end: 10 * MiB, done: 0 }]
    const piece = splitLargest(segs, new Set(segs), () => 6 * MiB)!
    expect(piece.start).toBeGreaterThanOrEqual(6 * MiB)
    const nearlyRead: Segment[] = [{ start: 0, end: 10 * MiB, done: 0 }]
    expect(splitLargest(nearlyRead, new Set(nearlyRead), () => 9 * MiB)).toBeUndefined()
  })

  it('leaves ranges nobody works on, and small tails, alone', () => {
    const segs: Segment[] = [{ start: 0, end: 64 * MiB, done: 0 }]
    expect(splitLargest(segs, new Set(), () => 0)).toBeUndefined()
    const small: Segment[] = [{ start: 0, end: MiB, done: 0 }]
    expect(splitLargest(small, new Set(small), () => 0)).toBeUndefined()
  })
})

describe('taking work from the front', () => {
  it('cuts one span off the front of an idle range and leaves the rest idle behind it', () => {
    const segs: Segment[] = [
      { start: 0, end: 4 * MiB, done: 4 * MiB },
      { start: 4 * MiB, end: 64 * MiB, done: 0 }
    ]
    const piece = takeFront(segs, segs[1]!, 2 * MiB)
    expect(piece).toEqual({ start: 4 * MiB, end: 6 * MiB, done: 0 })
    expect(segs[2]).toEqual({ start: 6 * MiB, end: 64 * MiB, done: 0 })
    expect(segmentsCover(segs, 64 * MiB)).toBe(true)
  })

  it('keeps what a range already has, and does not leave a tail under the minimum', () => {
    const resumed: Segment[] = [{ start: 0, end: 16 * MiB, done: 3 * MiB }]
    expect(takeFront(resumed, resumed[0]!, 2 * MiB)).toEqual({
      start: 0,
      end: 5 * MiB,
      done: 3 * MiB
    })
    expect(resumed[1]).toEqual({ start: 5 * MiB, end: 16 * MiB, done: 0 })
    const short: Segment[] = [{ start: 0, end: 2.5 * MiB, done: 0 }]
    expect(takeFront(short, short[0]!, 2 * MiB)).toBe(short[0])
    expect(short).toEqual([{ start: 0, end: 2.5 * MiB, done: 0 }])
  })

  it('folds finished ranges into the next one, never one a connection holds', () => {
    const segs: Segment[] = [
      { start: 0, end: 2 * MiB, done: 2 * MiB },
      { start: 2 * MiB, end: 4 * MiB, done: 2 * MiB },
      { start: 4 * MiB, end: 6 * MiB, done: MiB },
      { start: 6 * MiB, end: 8 * MiB, done: 2 * MiB },
      { start: 8 * MiB, end: 10 * MiB, done: 0 }
    ]
    const held = segs[2]!
    foldFinished(segs, new Set([held]))
    expect(segs).toEqual([
      { start: 0, end: 4 * MiB, done: 4 * MiB },
      { start: 4 * MiB, end: 6 * MiB, done: MiB },
      { start: 6 * MiB, end: 10 * MiB, done: 2 * MiB }
    ])
    expect(segs[1]).toBe(held)
    expect(segmentsCover(segs, 10 * MiB)).toBe(true)
  })
})

describe('backoff and Retry-After', () => {
  it('doubles from the base and caps at 30 s', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 1000))).toEqual([1000, 2000, 4000, 8000])
    expect(backoffMs(20, 1000)).toBe(30_000)
  })

  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('7')).toBe(7000)
    const now = Date.parse('Wed, 01 Jan 2025 00:00:00 GMT')
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000)
    expect(retryAfterMs('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0)
    expect(retryAfterMs('soon')).toBeUndefined()
    expect(retryAfterMs(undefined)).toBeUndefined()
  })
})

describe('SpeedMeter', () => {
  it('smooths a jumpy rate and gives an ETA from it', () => {
    const m = new SpeedMeter(0, 0)
    expect(m.sample(1000, 1000)).toBe(1000)
    // One burst does not swing the average all the way.
    const after = m.sample(11_000, 1250)
    expect(after).toBeGreaterThan(1000)
    expect(after).toBeLessThan(40_000)
    expect(m.eta(null, 0)).toBeNull()
    expect(m.eta(11_000 + after * 10, 11_000)).toBeCloseTo(10)
  })
})

describe('sidecar', () => {
  const base: Sidecar = {
    version: 1,
    id: '0123456789abcdef',
    url: 'https://example.com/m.safetensors',
    final_path: '/x/m.safetensors',
    size: 10,
    etag: '"e"',
    last_modified: null,
    sha256: null,
    segments: [{ start: 0, end: 10, done: 4 }],
    created: 1,
    updated: 2
  }

  it('round-trips, and rejects garbage, gaps and other versions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sidecar-'))
    const final = join(dir, 'm.safetensors')
    await writeSidecar(final, base)
    expect(await readSidecar(final)).toEqual(base)
    writeFileSync(final + '.part.json', '{"version": 1, "id"')
    expect(await readSidecar(final)).toBeUndefined()
    const gap = {
      ...base,
      segments: [
        { start: 0, end: 4, done: 0 },
        { start: 5, end: 10, done: 0 }
      ]
    }
    writeFileSync(final + '.part.json', JSON.stringify(gap))
    expect(await readSidecar(final)).toBeUndefined()
    writeFileSync(final + '.part.json', JSON.stringify({ ...base, version: 2 }))
    expect(await readSidecar(final)).toBeUndefined()
    const overdone = { ...base, segments: [{ start: 0, end: 10, done: 11 }] }
    writeFileSync(final + '.part.json', JSON.stringify(overdone))
    expect(await readSidecar(final)).toBeUndefined()
  })
})

describe('small helpers', () => {
  it('formats sizes like disk tools and reads Content-Range totals', () => {
    expect(formatBytes(22_200_000_000)).toBe('22.2 GB')
    expect(formatBytes(3_100_000)).toBe('3.1 MB')
    expect(formatBytes(512)).toBe('512 B')
    expect(totalFromContentRange('bytes 0-0/4096')).toBe(4096)
    expect(totalFromContentRange('bytes */0')).toBe(0)
    expect(totalFromContentRange('bytes 0-0/*')).toBeNull()
  })

  it('resumes only on a strong validator', () => {
    expect(strongValidator({ etag: '"a"', lastModified: 'x' })).toBe('"a"')
    expect(strongValidator({ etag: 'W/"a"', lastModified: 'x' })).toBe('x')
    expect(strongValidator({ etag: 'W/"a"', lastModified: null })).toBeNull()
  })
})

describe('hash lead gate', () => {
  const MAX = HASH_LEAD_MAX
  const hashing = () => ({ done: () => hashed, dead: false })
  let hashed = 0

  it('holds a connection that runs too far ahead of the hash, and lets it go at half', () => {
    hashed = 0
    const g = new HashLeadGate(hashing())
    g.check(0)
    g.check(MAX)
    expect(g.wait()).toBeUndefined() // within the lead
    g.check(MAX + 1)
    const held = g.wait()
    expect(held).toBeInstanceOf(Promise)
    hashed = MAX / 2
    g.check(MAX + 1) // still more than half the lead ahead
    expect(g.wait()).toBe(held)
    hashed = MAX / 2 + 1
    g.check(MAX + 1)
    expect(g.wait()).toBeUndefined()
    return held // settled: the held reader goes on
  })

  it('does not hold a resumed download while the hash reads what an earlier run wrote', () => {
    hashed = 0
    const g = new HashLeadGate(hashing())
    g.check(10 * MAX) // 10 leads on disk already, none hashed yet
    g.check(10 * MAX + MAX / 2)
    expect(g.wait()).toBeUndefined()
    hashed = 4 * MAX // the hash catches up: the lead shrinks, and counts from there
    g.check(10 * MAX + MAX)
    g.check(12 * MAX + 1)
    expect(g.wait()).toBeInstanceOf(Promise)
  })

  it('opens for good once the hashing thread is gone', () => {
    hashed = 0
    const h = { done: () => 0, dead: false }
    const g = new HashLeadGate(h)
    g.check(0)
    g.check(2 * MAX)
    const held = g.wait()
    expect(held).toBeInstanceOf(Promise)
    h.dead = true
    g.check(3 * MAX)
    expect(g.wait()).toBeUndefined()
    g.check(9 * MAX)
    expect(g.wait()).toBeUndefined()
    return held
  })
})
