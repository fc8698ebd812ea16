// What the app log records from the core's event stream: a pod going up and
// down (a reconnect loop is a run of these), a target's message such as a
// failed auto-resume, a download failing with its code — once per transition,
// not once per progress event — and failed API calls with their code.
import { EventEmitter } from 'node:events'
import { Writable } from 'node:stream'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { logActivity, loggedHandlers } from '../../src/main/diagnostics/activityLog'
import type { ApiEventMap } from '../../src/main/api/eventSource'
import type { ApiHandlers } from '../../src/shared/api'
import { UserError } from '../../src/main/errors'
import type { DownloadRecord, TargetInfo } from '../../src/shared/types'

const target = (over: Partial<TargetInfo>): TargetInfo => ({
  id: 't1',
  name: 't1',
  config: { kind: 'ssh', host: 'h', port: 22, user: 'root', workspace: '/workspace' },
  connection: 'online',
  lastSeen: null,
  freeBytes: null,
  comfyui: null,
  message: null,
  ...over
})
const record = (over: Partial<DownloadRecord>): DownloadRecord => ({
  id: 'j',
  targetId: 't1',
  path: '/workspace/ComfyUI/models/loras/a.safetensors',
  url: 'https://example.com/a.safetensors',
  folder: 'loras',
  filename: 'a.safetensors',
  state: 'downloading',
  progress: 10,
  fileSize: 1000,
  downloaded: 100,
  speed: 50,
  eta: 18,
  error: null,
  startTime: 1000,
  timestamp: 1001,
  sha256: null,
  source: 'direct',
  connections: 4,
  attempts: 1,
  rev: 1,
  ...over
})

function memoryLog(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      out.push(...chunk.toString().split('\n').filter(Boolean))
      done()
    }
  })
  return { log: pino({ base: null }, sink), lines: () => out.map((l) => JSON.parse(l)) }
}

describe('activity log', () => {
  it('records target and download transitions once each', () => {
    const events = new EventEmitter<ApiEventMap>()
    const { log, lines } = memoryLog()
    logActivity(events, log, () => 'pod1')
    const pod = target({ id: 'p1', name: 'pod1', connection: 'online' })
    events.emit('targetsChanged', [pod])
    events.emit('targetsChanged', [pod])
    events.emit('targetsChanged', [{ ...pod, connection: 'offline' }])
    events.emit('targetsChanged', [{ ...pod, connection: 'connecting' }])
    events.emit('targetsChanged', [
      { ...pod, message: 'Could not resume a download: the pod helper failed' }
    ])
    const r = record({ id: 'j1', targetId: 'p1' })
    events.emit('downloadsChanged', { targetId: 'p1', upserts: [r], removed: [] })
    events.emit('downloadsChanged', {
      targetId: 'p1',
      upserts: [{ ...r, downloaded: 200 }],
      removed: []
    })
    const failed = { ...r, state: 'error' as const, error: 'HTTP 403', errorCode: 'auth' }
    events.emit('downloadsChanged', { targetId: 'p1', upserts: [failed], removed: [] })
    events.emit('downloadsChanged', { targetId: 'p1', upserts: [failed], removed: [] })

    const got = lines().map((l) => [l.msg, l.connection ?? l.code ?? '', l.message ?? ''])
    expect(got).toEqual([
      ['target', 'online', ''],
      ['target', 'offline', ''],
      ['target', 'connecting', ''],
      ['target', 'online', 'Could not resume a download: the pod helper failed'],
      ['download failed', 'auth', '']
    ])
    expect(lines()[4]).toMatchObject({ target: 'pod1', id: 'j1', error: 'HTTP 403' })
  })

  it('logs a failed API call with its code and rethrows it unchanged', async () => {
    const { log, lines } = memoryLog()
    const err = new UserError('no-space', 'Not enough free space.')
    const handlers = loggedHandlers(
      { pauseDownload: async () => Promise.reject(err) } as unknown as ApiHandlers,
      log
    )
    await expect(handlers.pauseDownload({ targetId: 't', id: 'j' })).rejects.toBe(err)
    expect(lines()).toEqual([
      expect.objectContaining({ method: 'pauseDownload', code: 'no-space', msg: 'call failed' })
    ])
  })
})
