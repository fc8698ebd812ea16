// The settings file also holds every pod's last snapshot. A huge one (a pod
// with many entries, or a hostile edit) is parsed once per change of the
// file, not on every read of a setting; a change another process writes (the
// CLI) is still seen at once.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createNodeStore } from '../../src/main/settings/createStore'
import { assertBuilt, freshComfy, runCli } from '../support/cli'

let base: string
beforeAll(() => {
  assertBuilt()
  base = mkdtempSync(join(tmpdir(), 'podpull-settings-'))
})
afterAll(() => rmSync(base, { recursive: true, force: true }))
afterEach(() => vi.restoreAllMocks())

/** A settings file whose pod cache holds `n` records (about 300 bytes each). */
function hugeSettings(home: string, n: number): number {
  createNodeStore(home) // the file with its defaults and migration mark
  const file = join(home, 'config.json')
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  const records = Array.from({ length: n }, (_, i) => ({
    id: i.toString(16).padStart(16, '0'),
    targetId: 'p1',
    path: `/workspace/ComfyUI/models/loras/f${i}.safetensors`,
    url: `https://example.com/f${i}.safetensors`,
    state: 'completed',
    progress: 100,
    rev: i
  }))
  data.podCache = { p1: { records, lastSeen: 1, freeBytes: null, comfyui: null } }
  const text = JSON.stringify(data)
  writeFileSync(file, text)
  return text.length
}

/** Counts the parses of texts at least `size` long (the settings file's). */
function countParses(size: number): () => number {
  let n = 0
  const parse = JSON.parse.bind(JSON)
  vi.spyOn(JSON, 'parse').mockImplementation(
    (text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
      if (typeof text === 'string' && text.length >= size) n++
      return parse(text, reviver) as unknown
    }
  )
  return () => n
}

describe('the settings file', () => {
  it('is parsed once per change, however often settings are read; a CLI write is seen', async () => {
    const { home, comfy } = freshComfy()
    const size = hugeSettings(home, 20_000)
    expect(size).toBeGreaterThan(3 << 20)
    const store = createNodeStore(home)
    const parses = countParses(size / 2)
    for (let i = 0; i < 100; i++) {
      expect(store.get('settings').concurrency).toBeGreaterThan(0)
      expect(store.get('targets')).toEqual([])
    }
    expect(parses()).toBe(1)

    // Another process adds a target: the next read sees it, parsing once more.
    const cli = await runCli(['targets', 'add-local', 'studio', '--comfyui', comfy], {
      PODPULL_HOME: home
    })
    expect(cli.code, cli.stderr).toBe(0)
    for (let i = 0; i < 100; i++)
      expect(store.get('targets').map((t) => t.name)).toEqual(['studio'])
    expect(parses()).toBe(2)

    // This process's own write: read back once, and the CLI's target is not lost.
    store.set('settings', { ...store.get('settings'), concurrency: 7 })
    for (let i = 0; i < 100; i++) expect(store.get('settings').concurrency).toBe(7)
    expect(store.get('targets').map((t) => t.name)).toEqual(['studio'])
    expect(parses()).toBe(3)

    // What a read hands out is a copy: changing it changes nothing stored.
    store.get('targets').pop()
    expect(store.get('targets')).toHaveLength(1)
    const written = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as {
      settings: { concurrency: number }
    }
    expect(written.settings.concurrency).toBe(7)
  })
})
