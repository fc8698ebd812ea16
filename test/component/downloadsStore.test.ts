import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useDownloadsStore } from '../../src/renderer/stores/downloads'
import { useTargetsStore } from '../../src/renderer/stores/targets'
import { record, target } from './fixtures'

describe('downloads store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('is seeded from a snapshot, unfinished rows first and newest first', () => {
    const s = useDownloadsStore()
    s.seed([
      record({ id: 'old-done', state: 'completed', startTime: 50 }),
      record({ id: 'a', startTime: 10 }),
      record({ id: 'b', state: 'paused', startTime: 20 })
    ])
    expect(s.list.map((r) => r.id)).toEqual(['b', 'a', 'old-done'])
    expect(s.counts.completed).toBe(1)
    expect(s.counts.paused).toBe(1)
  })

  it('applies newer upserts and ignores ones older than what it has', () => {
    const s = useDownloadsStore()
    s.seed([record({ id: 'a', rev: 5, progress: 50 })])
    s.apply({ targetId: 't1', upserts: [record({ id: 'a', rev: 7, progress: 70 })], removed: [] })
    s.apply({ targetId: 't1', upserts: [record({ id: 'a', rev: 6, progress: 60 })], removed: [] })
    expect(s.records.get('a')?.progress).toBe(70)
    s.apply({ targetId: 't1', upserts: [record({ id: 'a', rev: 7, progress: 1 })], removed: [] })
    expect(s.records.get('a')?.progress).toBe(70)
  })

  it('removes a record, and a stale upsert after the removal does not bring it back', () => {
    const s = useDownloadsStore()
    s.seed([record({ id: 'a', rev: 3 })])
    s.apply({ targetId: 't1', upserts: [], removed: [{ id: 'a', rev: 4 }] })
    expect(s.records.has('a')).toBe(false)
    s.apply({ targetId: 't1', upserts: [record({ id: 'a', rev: 3, progress: 99 })], removed: [] })
    expect(s.records.has('a')).toBe(false)
    // A genuinely newer record (e.g. the same file started again) does come back.
    s.apply({ targetId: 't1', upserts: [record({ id: 'a', rev: 9 })], removed: [] })
    expect(s.records.get('a')?.rev).toBe(9)
  })

  it('ignores a removal older than the record it would remove', () => {
    const s = useDownloadsStore()
    s.seed([record({ id: 'a', rev: 8 })])
    s.apply({ targetId: 't1', upserts: [], removed: [{ id: 'a', rev: 2 }] })
    expect(s.records.has('a')).toBe(true)
  })

  it('totals weight progress by bytes over active downloads and sum their speed', () => {
    const s = useDownloadsStore()
    s.seed([
      record({ id: 'big', fileSize: 9000, downloaded: 900, speed: 100 }),
      record({ id: 'small', fileSize: 1000, downloaded: 1000, speed: 20, state: 'verifying' }),
      record({ id: 'unknown', fileSize: null, downloaded: 5000, speed: 30 }),
      record({ id: 'done', state: 'completed', fileSize: 7000, downloaded: 7000, speed: 0 }),
      record({ id: 'paused', state: 'paused', fileSize: 7000, downloaded: 0, speed: 0 })
    ])
    expect(s.totals.active).toBe(3)
    expect(s.totals.size).toBe(10_000)
    expect(s.totals.downloaded).toBe(1900)
    expect(s.totals.progress).toBeCloseTo(19)
    expect(s.totals.speed).toBe(150)
  })

  it("leaves an offline pod's last known speed out of the total speed", () => {
    const s = useDownloadsStore()
    useTargetsStore().seed([
      target({ id: 'pod', connection: 'offline' }),
      target({ id: 'local', connection: 'online' })
    ])
    s.seed([
      record({ id: 'p', targetId: 'pod', speed: 500 }),
      record({ id: 'l', targetId: 'local', speed: 70 })
    ])
    expect(s.totals.active).toBe(2)
    expect(s.totals.speed).toBe(70)
  })

  it('re-seeding replaces everything, including what was removed before', () => {
    const s = useDownloadsStore()
    s.seed([record({ id: 'a', rev: 10 })])
    s.apply({ targetId: 't1', upserts: [], removed: [{ id: 'a', rev: 11 }] })
    // After a server restart revisions may start over: the snapshot is the truth.
    s.seed([record({ id: 'a', rev: 1 }), record({ id: 'b', rev: 1 })])
    expect([...s.records.keys()].sort()).toEqual(['a', 'b'])
  })
})
