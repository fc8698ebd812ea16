import { describe, expect, it } from 'vitest'
import { EventEmitter } from 'node:events'
import { desktopTouches } from '../../src/main/electron/desktopTouches'
import type { DownloadRecord, DownloadsChangedEvent } from '../../src/shared/types'

const rec = (
  id: string,
  state: DownloadRecord['state'],
  downloaded: number,
  rev: number
): DownloadRecord => ({
  id,
  targetId: 't',
  path: `/m/${id}`,
  url: 'https://x',
  folder: 'loras',
  filename: `${id}.safetensors`,
  state,
  progress: 0,
  fileSize: 100,
  downloaded,
  speed: 0,
  eta: null,
  error: state === 'error' ? 'HTTP 500' : null,
  startTime: 0,
  timestamp: 0,
  sha256: null,
  source: 'direct',
  connections: 1,
  attempts: 1,
  rev
})

describe('desktop touches', () => {
  it('notifies on complete / fail, shows aggregate progress, counts active downloads', () => {
    const core = Object.assign(new EventEmitter(), {
      downloads: () => [],
      settings: () => ({ notifications: true })
    })
    const notes: string[] = []
    const progress: (number | null)[] = []
    const active: number[] = []
    desktopTouches(core as never, {
      notify: (t, b) => notes.push(`${t}: ${b}`),
      progress: (f) => progress.push(f),
      activeChanged: (n) => active.push(n)
    })
    const ev = (upserts: DownloadRecord[]): DownloadsChangedEvent => ({
      targetId: 't',
      upserts,
      removed: []
    })
    core.emit(
      'downloadsChanged',
      ev([rec('a', 'downloading', 25, 1), rec('b', 'downloading', 75, 1)])
    )
    expect(progress.at(-1)).toBe(0.5)
    core.emit('downloadsChanged', ev([rec('a', 'completed', 100, 2)]))
    core.emit('downloadsChanged', ev([rec('b', 'error', 75, 2)]))
    expect(notes).toEqual([
      'Download complete: a.safetensors is in loras.',
      'Download failed: b.safetensors: HTTP 500'
    ])
    expect(progress.at(-1)).toBeNull()
    expect(active).toEqual([0, 2, 1, 0])
  })
})
