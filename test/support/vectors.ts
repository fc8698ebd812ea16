// Shared test vectors (test/vectors/*.json): one file both engines are checked
// against, the TypeScript side directly, the helper's side through python3 on
// its package (the modules the pod runs).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(__dirname, '../..')

export const vectorPath = (name: string): string => join(ROOT, 'test/vectors', name)

export function readVectors<C>(name: string): C[] {
  return (JSON.parse(readFileSync(vectorPath(name), 'utf8')) as { cases: C[] }).cases
}

/** Runs `program` (Python; sys.argv[1] is the vector file) with the helper's
 *  package importable; returns what it printed as JSON. */
export function helperOnVectors<T>(program: string, name: string): T {
  return JSON.parse(
    execFileSync('python3', ['-c', program, vectorPath(name)], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: join(ROOT, 'resources/helper') }
    })
  ) as T
}
