// The pod helper's zipapp is reproducible: two builds, a build in another time
// zone and a build from CRLF sources give the same bytes (so the name on the
// pod, its sha256, changes exactly when the code does), and the archive runs
// as `python3 -I -S helper.pyz <command>`.
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
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

/** Runs python3 on `script` (argv after it: `args`) and returns its stdout. */
const py = (script: string, ...args: string[]): string =>
  execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8' })

/** The cache file a helper archive keeps beside it for this python3. */
const codeCacheOf = (pyz: string): string =>
  `${pyz}.${py('import sys; print(sys.implementation.cache_tag)').trim()}.code`

/** Replaces the cached code of podpull_helper.probe with code that answers
 *  `marker`, under the digest of the real source (`digest: "real"`) or of
 *  another one: what a run then answers shows whether the cache was used. */
const PLANT = `
import hashlib, marshal, sys, zipfile
pyz, cache, marker, digest = sys.argv[1:5]
src = zipfile.ZipFile(pyz).read("podpull_helper/probe.py")
head_len = len(b"podpull-code-1\\n") + 4
with open(cache, "rb") as f:
    head = f.read(head_len)
    codes = marshal.load(f)
fake = compile("def cmd_probe(req):\\n    return {'planted': %r}\\n" % marker, "probe.py", "exec")
key = hashlib.sha256(src).digest() if digest == "real" else hashlib.sha256(b"other").digest()
codes["podpull_helper.probe"] = (key, fake)
with open(cache, "wb") as f:
    f.write(head)
    marshal.dump(codes, f)
`

/** Whether the cache holds podpull_helper.probe for the archive's source. */
const CACHED_SOURCE_MATCHES = `
import hashlib, marshal, sys, zipfile
pyz, cache = sys.argv[1:3]
src = zipfile.ZipFile(pyz).read("podpull_helper/probe.py")
with open(cache, "rb") as f:
    f.read(len(b"podpull-code-1\\n") + 4)
    print(marshal.load(f)["podpull_helper.probe"][0] == hashlib.sha256(src).digest())
`

describe('helper zipapp code cache', { timeout: 60_000 }, () => {
  const probe = (pyz: string, ws: string): Record<string, unknown> =>
    JSON.parse(
      execFileSync('python3', [...PYTHON_FLAGS, pyz, 'probe'], {
        input: JSON.stringify({ workspace: ws }),
        encoding: 'utf8'
      })
    ) as Record<string, unknown>

  function freshHelper(): { pyz: string; cache: string; ws: string } {
    const dir = mkdtempSync(join(tmpdir(), 'podpull-pyz-cache-'))
    const pyz = join(dir, 'helper.pyz')
    writeFileSync(pyz, buildHelper())
    return { pyz, cache: codeCacheOf(pyz), ws: dir }
  }

  it('keeps the compiled modules beside the archive, private, and runs them', () => {
    const { pyz, cache, ws } = freshHelper()
    expect(existsSync(cache)).toBe(false)
    expect(probe(pyz, ws)).toMatchObject({ ok: true })
    expect(statSync(cache).mode & 0o777).toBe(0o600)
    py(PLANT, pyz, cache, 'from the cache', 'real')
    expect(probe(pyz, ws)).toMatchObject({ ok: true, planted: 'from the cache' })
  })

  it('compiles again when the source is not the one the cached code came from', () => {
    const { pyz, cache, ws } = freshHelper()
    probe(pyz, ws)
    py(PLANT, pyz, cache, 'stale', 'other')
    const answer = probe(pyz, ws)
    expect(answer).toMatchObject({ ok: true, workspace: ws })
    expect(answer).not.toHaveProperty('planted')
    // ...and the real code took the stale entry's place.
    expect(py(CACHED_SOURCE_MATCHES, pyz, cache).trim()).toBe('True')
  })

  it('ignores a cache file that others could have written', () => {
    const { pyz, cache, ws } = freshHelper()
    probe(pyz, ws)
    py(PLANT, pyz, cache, 'planted by another', 'real')
    chmodSync(cache, 0o664)
    const answer = probe(pyz, ws)
    expect(answer).toMatchObject({ ok: true, workspace: ws })
    expect(answer).not.toHaveProperty('planted')
  })

  it('still runs where the cache cannot be written', () => {
    const { pyz, cache, ws } = freshHelper()
    mkdirSync(cache) // a directory in the cache file's place: no file can be written or read there
    expect(probe(pyz, ws)).toMatchObject({ ok: true, workspace: ws })
    expect(readdirSync(dirname(pyz)).filter((f) => f.includes('.tmp-'))).toEqual([])
  })
})
