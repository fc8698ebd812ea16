// The pod helper's zipapp is reproducible: two builds, a build in another time
// zone and a build from CRLF sources give the same bytes (so the name on the
// pod, its sha256, changes exactly when the code does), and the archive runs
// as `python3 -I -S helper.pyz <command>`.
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unzipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import { buildHelper, helperEntries, HELPER_SOURCE } from '../../scripts/build-helper.mjs'
import { PYTHON_FLAGS } from '../../src/main/ssh/helperClient'
import { loadHelper } from '../../src/main/ssh/helperUpload'

const SCRIPT = join(__dirname, '../../scripts/build-helper.mjs')
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** Builds in a separate node process (its own clock and time zone) into `out`. */
function buildElsewhere(out: string, tz: string): Buffer {
  const r = spawnSync(process.execPath, [SCRIPT, out], { env: { ...process.env, TZ: tz } })
  expect(r.status, r.stderr?.toString()).toBe(0)
  return readFileSync(out)
}

// Builds in child processes and runs python3: seconds on a loaded machine, not the unit default.
describe('helper zipapp build', { timeout: 60_000 }, () => {
  it('gives identical bytes on every build, in any time zone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'podpull-pyz-'))
    const a = buildHelper()
    const b = buildElsewhere(join(dir, 'b.pyz'), 'UTC')
    const c = buildElsewhere(join(dir, 'c.pyz'), 'Pacific/Chatham')
    expect(sha(b)).toBe(sha(a))
    expect(sha(c)).toBe(sha(a))
  })

  it('does not depend on the line endings of the checkout', () => {
    const src = mkdtempSync(join(tmpdir(), 'podpull-pyz-crlf-'))
    cpSync(HELPER_SOURCE, src, { recursive: true })
    const pkg = join(src, 'podpull_helper')
    for (const f of readdirSync(pkg).filter((n) => n.endsWith('.py')))
      writeFileSync(join(pkg, f), readFileSync(join(pkg, f), 'utf8').replace(/\n/g, '\r\n'))
    expect(sha(buildHelper(src))).toBe(sha(buildHelper()))
  })

  it('holds __main__.py and every module, sorted, with pinned times', () => {
    const names = helperEntries().map((e) => e.name)
    expect(names[0]).toBe('__main__.py')
    expect(names).toContain('podpull_helper/cli.py')
    expect(names).toEqual([...names].sort())
    const pyz = buildHelper()
    expect(Object.keys(unzipSync(pyz))).toEqual(names)
    // Every local header's DOS time and date fields (offsets 10–13) are the same pinned value.
    const stamps = new Set<string>()
    for (let i = pyz.indexOf('PK\x03\x04'); i >= 0; i = pyz.indexOf('PK\x03\x04', i + 4))
      stamps.add(pyz.subarray(i + 10, i + 14).toString('hex'))
    expect(stamps.size).toBe(1)
  })

  it('runs as the app runs it, and the app reads its version from inside', () => {
    const dir = mkdtempSync(join(tmpdir(), 'podpull-pyz-run-'))
    const pyz = join(dir, 'helper.pyz')
    writeFileSync(pyz, buildHelper())
    const out = execFileSync('python3', [...PYTHON_FLAGS, pyz, 'probe'], {
      input: JSON.stringify({ workspace: dir }),
      encoding: 'utf8'
    })
    const version = /^HELPER_VERSION = "([^"]+)"/m.exec(
      readFileSync(join(HELPER_SOURCE, 'podpull_helper', '__init__.py'), 'utf8')
    )![1]
    expect(JSON.parse(out)).toMatchObject({ ok: true, helper_version: version, workspace: dir })
    expect(loadHelper(pyz)).toMatchObject({ path: pyz, version, sha256: sha(readFileSync(pyz)) })
  })
})
