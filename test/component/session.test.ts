import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useDownloadsStore } from '../../src/renderer/stores/downloads'
import { useSessionStore } from '../../src/renderer/stores/session'
import { useSettingsStore } from '../../src/renderer/stores/settings'
import { useTargetsStore } from '../../src/renderer/stores/targets'
import type { Snapshot } from '../../src/shared/types'
import { fakeBridge, record, snapshot, target } from './fixtures'

function connection(fake: ReturnType<typeof fakeBridge>) {
  const reconnect = new Set<() => void>()
  const link = new Set<(c: boolean) => void>()
  return {
    conn: {
      api: fake.api,
      onReconnect: (cb: () => void) => (reconnect.add(cb), () => reconnect.delete(cb)),
      onConnectionChange: (cb: (c: boolean) => void) => (link.add(cb), () => link.delete(cb))
    },
    reconnect: () => reconnect.forEach((cb) => cb()),
    link: (c: boolean) => link.forEach((cb) => cb(c))
  }
}

describe('session: seeding and events', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('seeds every store from the snapshot', async () => {
    const fake = fakeBridge(
      snapshot({
        downloads: [record({ id: 'a' })],
        tokens: { hf: true, civitai: false, editable: true },
        host: 'electron'
      })
    )
    await useSessionStore().start(connection(fake).conn)
    expect(useSessionStore().ready).toBe(true)
    expect(useDownloadsStore().records.size).toBe(1)
    expect(useTargetsStore().name('t1')).toBe('studio')
    expect(useSettingsStore().tokens.hf).toBe(true)
    expect(useSettingsStore().host).toBe('electron')
  })

  it('keeps an event that arrives while the snapshot is on its way', async () => {
    const fake = fakeBridge()
    let answer: (s: Snapshot) => void = () => undefined
    fake.answer('getSnapshot', () => new Promise<Snapshot>((ok) => (answer = ok)))
    const started = useSessionStore().start(connection(fake).conn)
    fake.emit('downloadsChanged', {
      targetId: 't1',
      upserts: [record({ id: 'a', rev: 5, progress: 55 })],
      removed: []
    })
    answer(snapshot({ downloads: [record({ id: 'a', rev: 4, progress: 40 })] }))
    await started
    expect(useDownloadsStore().records.get('a')?.progress).toBe(55)
  })

  it('patches targets, settings and tokens from their events', async () => {
    const fake = fakeBridge()
    await useSessionStore().start(connection(fake).conn)
    fake.emit('targetsChanged', [target({ id: 'p', name: 'pod', connection: 'offline' })])
    fake.emit('tokensChanged', { hf: false, civitai: true, editable: false })
    fake.emit('settingsChanged', { ...useSettingsStore().settings, concurrency: 7 })
    expect(useTargetsStore().list.map((t) => t.name)).toEqual(['pod'])
    expect(useTargetsStore().isOnline('p')).toBe(false)
    expect(useSettingsStore().tokens.civitai).toBe(true)
    expect(useSettingsStore().settings.concurrency).toBe(7)
  })

  it('re-seeds from a fresh snapshot after a reconnect and shows the link state', async () => {
    const fake = fakeBridge(snapshot({ downloads: [record({ id: 'a', progress: 10 })] }))
    const c = connection(fake)
    await useSessionStore().start(c.conn)
    c.link(false)
    expect(useSessionStore().connected).toBe(false)
    fake.answer('getSnapshot', () =>
      snapshot({ downloads: [record({ id: 'a', progress: 60 }), record({ id: 'b' })] })
    )
    c.link(true)
    c.reconnect()
    await expect.poll(() => useDownloadsStore().records.size).toBe(2)
    expect(useDownloadsStore().records.get('a')?.progress).toBe(60)
    expect(useSessionStore().connected).toBe(true)
    expect(fake.calls.filter((x) => x.m === 'getSnapshot')).toHaveLength(2)
  })

  it('says so when the snapshot cannot be loaded', async () => {
    const fake = fakeBridge()
    fake.answer('getSnapshot', () => {
      throw new Error('Lost the connection to PodPull.')
    })
    await useSessionStore().start(connection(fake).conn)
    expect(useSessionStore().loadError).toBe('Lost the connection to PodPull.')
    expect(useSessionStore().ready).toBe(false)
  })
})
