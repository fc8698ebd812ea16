// A PATH that hides some commands (e.g. python3, to play a pod without it):
// one temp dir of symlinks to everything on the usual system PATH except them.
import { mkdtempSync, readdirSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

/** Returns a directory to use as the whole PATH; `hide` names are left out,
 *  as are versioned variants (hiding python3 also hides python3.11). */
export function pathWithout(hide: string[], parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, 'podpull-path-'))
  const hidden = (name: string): boolean =>
    hide.some((h) => name === h || (name.startsWith(h) && /^[.\d-]/.test(name.slice(h.length))))
  const seen = new Set<string>()
  for (const bin of SYSTEM_PATH) {
    let names: string[]
    try {
      names = readdirSync(bin)
    } catch {
      continue // not on this system
    }
    for (const name of names) {
      if (seen.has(name) || hidden(name)) continue
      seen.add(name)
      symlinkSync(join(bin, name), join(dir, name))
    }
  }
  return dir
}
