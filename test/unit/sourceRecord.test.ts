// The workspace's source record as both engines append it and export reads it:
// the last line for a path wins, a torn or foreign line is passed over.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  appendSourceRecord,
  parseSourceRecords,
  readSourceRecords,
  sourceRecordPath
} from '../../src/main/models/sourceRecord'

const SHA = 'ab'.repeat(32)

describe('source record', () => {
  it('keeps the last line per path and passes over torn or foreign lines', () => {
    const text = [
      JSON.stringify({ path: '/m/a', url: 'https://x/a1', size: 1, sha256: null, at: 1 }),
      JSON.stringify({ path: '/m/b', url: 'file:///etc/passwd', size: 1, at: 2 }),
      'not json',
      JSON.stringify({ path: '/m/a', url: 'https://x/a2', size: 2, sha256: SHA, at: 3 }),
      '{"path":"/m/c","url":"https://x/c"' // a crash mid-append
    ].join('\n')
    const r = parseSourceRecords(text)
    expect([...r.keys()]).toEqual(['/m/a'])
    expect(r.get('/m/a')).toEqual({
      path: '/m/a',
      url: 'https://x/a2',
      size: 2,
      sha256: SHA,
      at: 3
    })
  })

  it('appends one line per finished download', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'podpull-sources-'))
    await appendSourceRecord(ws, { path: '/m/a', url: 'https://x/a', size: 5, sha256: null })
    await appendSourceRecord(ws, { path: '/m/b', url: 'https://x/b', size: 6, sha256: SHA })
    expect(readFileSync(sourceRecordPath(ws), 'utf8').trim().split('\n')).toHaveLength(2)
    const r = await readSourceRecords(ws)
    expect(r.get('/m/b')).toMatchObject({ url: 'https://x/b', size: 6, sha256: SHA })
  })
})
