// The shared test vectors (test/vectors/*.json) both engines are held to: the
// TypeScript side reads them in-process, the helper's side in a real python3 on
// the package the pod runs (runPythonOnVectors).
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

export const VECTORS_DIR = join(__dirname, '../vectors')
const HELPER_SOURCES = join(__dirname, '../../resources/helper')

export function readVectors<T>(name: string): T {
  return JSON.parse(readFileSync(join(VECTORS_DIR, name), 'utf8')) as T
}

/** Runs `program` in python3 with the helper package importable, the vector
 *  file's path as argv[1] and `args` after it; returns its JSON on stdout. */
export function runPythonOnVectors<T>(program: string, name: string, ...args: string[]): T {
  const out = execFileSync('python3', ['-S', '-c', program, join(VECTORS_DIR, name), ...args], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: HELPER_SOURCES }
  })
  return JSON.parse(out) as T
}

export interface ScratchLayout {
  dirs?: string[]
  /** Symlink (relative to the scratch folder) → folder it points at. */
  links?: Record<string, string>
  /** Symlink to a file (which need not exist). */
  fileLinks?: Record<string, string>
}

/** A fresh scratch folder (its realpath) laid out as `layout` says. */
export function layOutScratch(layout: ScratchLayout, prefix: string): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
  for (const d of layout.dirs ?? []) mkdirSync(join(root, d), { recursive: true })
  for (const [from, to] of Object.entries({ ...layout.links, ...layout.fileLinks })) {
    mkdirSync(dirname(join(root, from)), { recursive: true })
    symlinkSync(join(root, to), join(root, from))
  }
  return root
}
