import { describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNodeStore } from '../../src/main/settings/createStore'
import { appHome } from '../../src/main/settings/appHome'
import { STORE_VERSION } from '../../src/main/settings/storeSchema'
import { PodCacheFiles } from '../../src/main/settings/podCacheFiles'
import { VolumeUsageFiles } from '../../src/main/settings/volumeUsageFiles'

/** Opens a store of an older `version` holding `data`; config.json as it is after. */
function openedFrom(home: string, version: string, data: object): Record<string, unknown> {
  const file = join(home, 'config.json')
  writeFileSync(file, JSON.stringify({ ...data, __internal__: { migrations: { version } } }))
  createNodeStore(home)
  return JSON.parse(readFileSync(file, 'utf8'))
}

describe('the app store', () => {
  it('PODPULL_HOME moves all state', () => {
    expect(appHome({ PODPULL_HOME: '/tmp/pp-x' })).toBe('/tmp/pp-x')
    expect(appHome({ XDG_CONFIG_HOME: '/cfg' })).toMatch(/PodPull$/)
  })

  it('writes a readable config.json in PODPULL_HOME with defaults', () => {
    const home = mkdtempSync(join(tmpdir(), 'pp-store-'))
    const store = createNodeStore(home)
    store.set('knownHosts', { 'pod:22': 'SHA256:abc' })
    const file = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'))
    expect(file.knownHosts).toEqual({ 'pod:22': 'SHA256:abc' })
    expect(store.get('settings').concurrency).toBe(4)
  })

  it('two processes see each other’s writes (the app and the CLI share the file)', () => {
    const home = mkdtempSync(join(tmpdir(), 'pp-store-'))
    const a = createNodeStore(home)
    const b = createNodeStore(home)
    a.set('targets', [
      { id: 't1', name: 'ws', config: { kind: 'local', comfyui: '/c', workspace: '/' } }
    ])
    expect(b.get('targets').map((t) => t.name)).toEqual(['ws'])
  })

  it('migrates a 1.x store', () => {
    const home = mkdtempSync(join(tmpdir(), 'pp-store-'))
    writeFileSync(
      join(home, 'config.json'),
      JSON.stringify({
        maxConcurrent: 6,
        hostKeys: { 'p:22': 'SHA256:k' },
        __internal__: { migrations: { version: '1.0.0' } }
      })
    )
    const store = createNodeStore(home)
    expect(store.get('settings').concurrency).toBe(6)
    expect(store.get('knownHosts')).toEqual({ 'p:22': 'SHA256:k' })
    expect(store.has('maxConcurrent' as never)).toBe(false)
    const raw = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'))
    expect(raw.__internal__.migrations.version).toBe(STORE_VERSION)
  })

  it("moves the pods' snapshots of a 2.0 store into their own files (config.json stays small)", () => {
    const home = mkdtempSync(join(tmpdir(), 'pp-store-'))
    const entry = {
      records: [{ id: 'a1', path: '/workspace/ComfyUI/models/loras/x.safetensors' }],
      lastSeen: 5,
      freeBytes: null,
      comfyui: '/workspace/ComfyUI'
    }
    const raw = openedFrom(home, '2.0.0', { podCache: { p1: entry, '../escape': entry } })
    expect(raw.podCache).toBeUndefined()
    const files = PodCacheFiles.beside(join(home, 'config.json'))
    expect(files.get('p1')).toEqual(entry)
    // An id that is a path names no file anywhere.
    expect(files.get('../escape')).toBeUndefined()
    files.remove('p1')
    expect(files.get('p1')).toBeUndefined()
  })

  it("moves network volumes' usage of a 2.1 store into files of their own, readable by this user only", () => {
    const home = mkdtempSync(join(tmpdir(), 'pp-store-'))
    const usage = { usedBytes: 3 << 20, files: 1, at: 7, podId: 'pod9' }
    const raw = openedFrom(home, '2.1.0', { volumeUsage: { vol1: usage, '../escape': usage } })
    expect(raw.volumeUsage).toBeUndefined()
    const files = VolumeUsageFiles.beside(join(home, 'config.json'))
    expect(files.get('vol1')).toEqual(usage)
    expect(files.get('../escape')).toBeUndefined()
    const file = join(home, 'volume-usage', 'vol1.json')
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600)
    // A newer listing replaces the file whole; one that is not usage reads as none.
    files.set('vol1', { ...usage, files: 2 })
    expect(files.get('vol1')?.files).toBe(2)
    writeFileSync(file, '{"records": []}')
    expect(files.get('vol1')).toBeUndefined()
  })
})
