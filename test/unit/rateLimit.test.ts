// The waits servers ask for, and where the user sees them: the IETF RateLimit
// header as Hugging Face sends it, Retry-After, and the notice that travels
// from the engine's progress to the status entry, the dashboard's record and
// the CLI's line.
import { describe, expect, it } from 'vitest'
import { rateLimitWaitMs, serverWaitMs } from '../../src/main/engine/backoff'
import { pausedWith, progressed } from '../../src/main/status/jobEntries'
import { entryToRecord, parseEntry } from '../../src/main/status/statusEntry'
import { describe as describeRow } from '../../src/cli/follow'
import type { EngineProgress } from '../../src/main/engine/types'

describe('what a server asks to wait', () => {
  it('RateLimit: the longest exhausted policy counts', () => {
    expect(rateLimitWaitMs('"resolvers";r=0;t=2')).toBe(2000)
    expect(rateLimitWaitMs('"api";r=489;t=189')).toBeUndefined()
    expect(rateLimitWaitMs('"api";r=0;t=55, "resolvers";r=0;t=70')).toBe(70_000)
    expect(rateLimitWaitMs('"api";r=3;t=55, "resolvers";r=0;t=7')).toBe(7000)
    expect(rateLimitWaitMs(undefined, '12')).toBe(12_000)
    expect(rateLimitWaitMs('garbage;;=;')).toBeUndefined()
  })

  it('Retry-After wins over RateLimit', () => {
    expect(serverWaitMs({ 'retry-after': '3', ratelimit: '"x";r=0;t=9' })).toBe(3000)
    expect(serverWaitMs({ ratelimit: '"x";r=0;t=9' })).toBe(9000)
    expect(serverWaitMs({})).toBeUndefined()
  })
})

describe('the notice on the row and in the CLI', () => {
  const entry = parseEntry('/m/checkpoints/a.safetensors', {
    status: 'downloading',
    url: 'https://huggingface.co/o/r/resolve/main/a.safetensors',
    timestamp: 1,
    id: 'a1b2c3d4e5f60718'
  })!
  const progress: EngineProgress = {
    state: 'downloading',
    fileSize: 100,
    downloaded: 10,
    speed: 0,
    eta: null,
    attempts: 2,
    resumable: true,
    connections: 0,
    notice: 'rate-limited by huggingface.co, going on in 2 s'
  }

  it('travels from the engine to the status entry, the record and the CLI line', () => {
    const e = progressed(entry, progress, 0, 2)
    const again = parseEntry('/m/checkpoints/a.safetensors', JSON.parse(JSON.stringify(e)))!
    const r = entryToRecord('t', '/m/checkpoints/a.safetensors', again)
    expect(r.notice).toBe('rate-limited by huggingface.co, going on in 2 s')
    expect(describeRow(r)).toMatch(/\(rate-limited by huggingface\.co, going on in 2 s\)$/)
    const after = progressed(e, { ...progress, notice: null }, 0, 3)
    expect(entryToRecord('t', '/m', after).notice).toBeNull()
  })

  it('a wait past the cap leaves the download paused, resumable, saying why', () => {
    const e = pausedWith(entry, 'huggingface.co asks to wait 24 h before going on', 'http')
    expect(e).toMatchObject({ status: 'paused', resumable: true, notice: null })
    expect(entryToRecord('t', '/m', e).error).toMatch(/asks to wait 24 h/)
  })
})
