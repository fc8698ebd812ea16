// Files "on this computer" for push tests: deterministic content (the model
// server's pattern) written once to a temp dir, with its sha256.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { doubledPattern, PATTERN_LEN } from '../harness/content'

export function writeLocalFile(
  dir: string,
  name: string,
  size: number,
  seed: string
): { path: string; sha256: string } {
  const pattern = doubledPattern(seed)
  const data = Buffer.allocUnsafe(size)
  for (let at = 0; at < size; at += PATTERN_LEN)
    pattern.copy(data, at, 0, Math.min(PATTERN_LEN, size - at))
  const path = join(dir, name)
  writeFileSync(path, data)
  return { path, sha256: createHash('sha256').update(data).digest('hex') }
}

/** Whether `part` holds exactly the first `upto` bytes of `local` (every write
 *  below `upto` landed: SFTP writes may land out of order, leaving holes). */
export function holdsPrefix(part: string, local: string, upto: number): boolean {
  if (!existsSync(part) || statSync(part).size < upto) return false
  const a = readFileSync(part).subarray(0, upto)
  return a.equals(readFileSync(local).subarray(0, upto))
}

/** The sha256 of a file, as hex. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}
