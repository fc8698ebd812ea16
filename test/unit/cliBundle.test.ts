// The CLI and `podpull serve` run on plain Node: nothing reachable from the
// built cli.js may import 'electron' (it would crash on a machine without it).
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'

const OUT = fileURLToPath(new URL('../../out/main', import.meta.url))

/** cli.js and every chunk it imports, transitively. */
function reachable(entry: string): string[] {
  const seen = new Set<string>()
  const visit = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    const src = readFileSync(file, 'utf8')
    for (const m of src.matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']+\.js)["']/g)) {
      // Bundled libraries carry strings that look like imports; follow real chunks only.
      const next = resolve(dirname(file), m[1]!)
      if (existsSync(next)) visit(next)
    }
  }
  visit(entry)
  return [...seen]
}

describe('built CLI bundle', () => {
  it('exists (npm run build ran) and never imports electron', () => {
    const entry = join(OUT, 'cli.js')
    expect(existsSync(entry), 'run "npm run build" first').toBe(true)
    const files = reachable(entry)
    for (const f of files) {
      expect(readFileSync(f, 'utf8'), f).not.toMatch(
        /(?:from|require\(|import\()\s*["']electron["']/
      )
    }
  })
  it('the Electron entry does import electron (the check above can fail)', () => {
    const src = reachable(join(OUT, 'index.js'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n')
    expect(src).toMatch(/from\s*["']electron["']/)
  })
})
