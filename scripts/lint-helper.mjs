// Lints the pod helper (resources/helper: __main__.py and the podpull_helper
// package) with Ruff, pinned
// in package.json as its official WebAssembly build, so CI needs neither pip
// nor a Debian package (bookworm has no ruff). Target: Python 3.8, the oldest
// python3 the helper supports on a pod. Prints one line per finding, exits 1
// when there is any. Usage: node scripts/lint-helper.mjs [file.py …]
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { HELPER_SOURCE, helperEntries } from './build-helper.mjs'

const require = createRequire(import.meta.url)
const { Workspace, PositionEncoding } = require('@astral-sh/ruff-wasm-nodejs')

const files = process.argv.slice(2)
// By default: every file the .pyz is built from.
if (!files.length) files.push(...helperEntries().map((e) => join(HELPER_SOURCE, e.name)))

const workspace = new Workspace(
  {
    'target-version': 'py38',
    'line-length': 100,
    // Pyflakes (F: undefined names, unused imports …) and pycodestyle (E, W).
    lint: { select: ['E', 'F', 'W'] }
  },
  PositionEncoding.Utf8
)

let found = 0
for (const file of files) {
  for (const d of workspace.check(readFileSync(file, 'utf8'))) {
    found++
    const at = d.start_location ?? d.location ?? {}
    console.log(`${file}:${at.row}:${at.column}: ${d.code ?? ''} ${d.message}`)
  }
}
console.log(found ? `ruff: ${found} finding(s)` : `ruff: ${files.length} file(s) clean`)
process.exit(found ? 1 : 0)
