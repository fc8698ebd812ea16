// The app log loads pino on its first write without blocking the caller (CLI
// start-up): lines written before it is ready must still reach the file, in
// order, with the time they were written at, redacted, once close() resolves.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createAppLog, LOG_FILE, logDir } from '../../src/main/diagnostics/appLog'

describe('app log', () => {
  it('keeps lines written before pino loads, in order, timed and redacted', async () => {
    const home = mkdtempSync(join(tmpdir(), 'podpull-applog-'))
    const { log, close } = createAppLog({ home, secrets: () => ['hf_secretvalue123'] })
    const before = Date.now()
    log.info({ n: 1 }, 'first')
    log.warn({ n: 2, token: 'hf_secretvalue123' }, 'second')
    log.error({ n: 3, url: 'https://x.example/a?X-Amz-Signature=abcdef0123' }, 'third')
    await close()
    const lines = readFileSync(join(logDir(home), LOG_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { n: number; msg: string; level: number; time: number })
    expect(lines.map((l) => [l.n, l.msg, l.level])).toEqual([
      [1, 'first', 30],
      [2, 'second', 40],
      [3, 'third', 50]
    ])
    for (const l of lines) expect(l.time).toBeGreaterThanOrEqual(before)
    const text = JSON.stringify(lines)
    expect(text).not.toContain('hf_secretvalue123')
    expect(text).not.toContain('abcdef0123')
  })

  it('close() before any write resolves and creates no file', async () => {
    const home = mkdtempSync(join(tmpdir(), 'podpull-applog-'))
    const { close } = createAppLog({ home })
    await close()
    expect(() => readFileSync(join(logDir(home), LOG_FILE))).toThrow()
  })
})
