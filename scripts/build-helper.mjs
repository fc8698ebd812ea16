// Builds the pod helper (resources/helper: __main__.py + the podpull_helper
// package) into ONE zipapp, out/helper/podpull_helper.pyz, which the app uploads
// to <workspace>/.podpull/helper-<sha256 prefix>.pyz and runs as
// `python3 -I -S <file> <command>`. Written in Node (fflate) so a build needs no
// Python. The bytes depend only on the sources: entries sorted by path, every
// timestamp pinned, line endings normalised (a Windows checkout hashes the same),
// so two builds are identical and the name on the pod changes exactly when the
// code does. Run by `npm run build` (electron.vite.config.ts) and before tests
// (vitest.config.ts); by hand: node scripts/build-helper.mjs [out.pyz]
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { zipSync } from 'fflate'

const root = fileURLToPath(new URL('..', import.meta.url))
export const HELPER_SOURCE = join(root, 'resources', 'helper')
export const HELPER_PYZ = join(root, 'out', 'helper', 'podpull_helper.pyz')

// fflate writes DOS times from the local-time getters, so a Date built from
// local fields reads back the same in every time zone.
const PINNED_TIME = new Date(1980, 0, 1, 0, 0, 0)
// Unix "version made by" and a plain 0644 file, whoever builds it.
const ENTRY = { level: 9, mtime: PINNED_TIME, os: 3, attrs: 0o100644 << 16 }

/** The zip's entries: __main__.py and every .py of the package, by sorted path. */
export function helperEntries(src = HELPER_SOURCE) {
  const files = ['__main__.py', ...pyFiles(join(src, 'podpull_helper'), src)].sort()
  return files.map((name) => ({
    name,
    data: readFileSync(join(src, ...name.split('/')), 'utf8').replace(/\r\n?/g, '\n')
  }))
}

function pyFiles(dir, src) {
  const out = []
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name)
    if (d.isDirectory() && d.name !== '__pycache__') out.push(...pyFiles(p, src))
    else if (d.isFile() && d.name.endsWith('.py')) out.push(relative(src, p).split(sep).join('/'))
  }
  return out
}

/** The .pyz bytes. */
export function buildHelper(src = HELPER_SOURCE) {
  const files = {}
  for (const e of helperEntries(src)) files[e.name] = [new TextEncoder().encode(e.data), ENTRY]
  return Buffer.from(zipSync(files, ENTRY))
}

/** Writes the .pyz (temp + rename, so a test run that reads it never sees half).
 *  The same bytes already there are left alone: a python3 running from the
 *  .pyz reads its modules from that path later, and two test runs side by side
 *  (.ci/run's vitest processes) each build it. */
export function writeHelper(out = HELPER_PYZ, src = HELPER_SOURCE) {
  const bytes = buildHelper(src)
  mkdirSync(dirname(out), { recursive: true })
  if (!sameBytes(out, bytes)) {
    const tmp = `${out}.tmp-${process.pid}`
    writeFileSync(tmp, bytes)
    renameSync(tmp, out)
  }
  return { path: out, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }
}

function sameBytes(path, bytes) {
  try {
    return readFileSync(path).equals(bytes)
  } catch {
    return false
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = writeHelper(process.argv[2] ?? HELPER_PYZ)
  console.log(`helper: ${r.path} (${r.size} bytes, sha256 ${r.sha256.slice(0, 16)})`)
}
