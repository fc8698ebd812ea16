// The shared status-ageing vectors (test/vectors/statusAgeing.json), the
// TypeScript side: retention drops old finished entries, staleness settles
// entries whose owner died or that stopped moving. The helper's side reads the
// same file (test/integration/helperAgeing.test.ts).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ageEntries } from '../../src/main/status/entryAging'
import type { RawStatus } from '../../src/main/status/statusFile'
import { ageingVectors, entryIn, entryOut } from '../support/ageingVectors'

const v = ageingVectors()
const scratch = mkdtempSync(join(tmpdir(), 'podpull-agevec-'))

describe('status entries age alike on both engines (test/vectors/statusAgeing.json)', () => {
  it.each(v.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const path = join(scratch, c.name)
    if (c.sidecar) writeFileSync(`${path}.part.json`, JSON.stringify(c.sidecar))
    const raw: RawStatus = { [path]: entryIn(v, c) }
    const r = v.rules
    ageEntries(raw, {
      now: r.now,
      retentionHours: r.retentionHours,
      staleMinutes: r.staleMinutes,
      host: r.host,
      isPidAlive: (pid) => r.alivePids.includes(pid),
      pidStart: (pid) => r.pidStarts[String(pid)] ?? null,
      running: new Set()
    })
    expect(raw[path]).toEqual(entryOut(v, c))
  })
})
