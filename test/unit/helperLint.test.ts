// The helper lint step of .ci/run (Ruff, target py38, via scripts/lint-helper.mjs)
// passes on every file of the helper package and really fails on a broken
// Python file, and every one of them compiles with python3.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { HELPER_SOURCE, helperEntries } from '../../scripts/build-helper.mjs'

const root = join(__dirname, '../..')
const script = join(root, 'scripts/lint-helper.mjs')
const helperFiles = helperEntries().map((e) => join(HELPER_SOURCE, e.name))

// Ruff's WebAssembly build compiles on every start: seconds of CPU, far more on a loaded machine.
describe('helper lint', { timeout: 180_000 }, () => {
  it('the pod helper is clean under ruff and compiles', () => {
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8' })
    expect(helperFiles.length).toBeGreaterThan(10)
    expect(r.stdout).toContain(`ruff: ${helperFiles.length} file(s) clean`)
    expect(r.status).toBe(0)
    const cache = mkdtempSync(join(tmpdir(), 'pyc-'))
    execFileSync('python3', ['-m', 'py_compile', ...helperFiles], {
      env: { ...process.env, PYTHONPYCACHEPREFIX: cache }
    })
  })

  it('fails, naming the line, on an undefined name and an unused import', () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'ruff-')), 'bad.py')
    writeFileSync(bad, 'import os\nprint(undefined_name)\n')
    const r = spawnSync(process.execPath, [script, bad], { encoding: 'utf8' })
    expect(r.status).toBe(1)
    expect(r.stdout).toContain(`${bad}:2:7: F821`)
    expect(r.stdout).toContain('F401')
  })
})
