// A scratch copy of the built out/ with one thing in the main bundle broken on
// purpose, to prove the shell tests notice. node_modules and resources are
// linked beside it, so it resolves them as out/ does.
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const ROOT = join(__dirname, '../..')

/** The scratch out/ whose main bundle has `from` replaced by `to`. */
export function brokenCopy(from: string | RegExp, to: string): string {
  const scratch = mkdtempSync(join(tmpdir(), 'podpull-broken-shell-'))
  cpSync(join(ROOT, 'out'), join(scratch, 'out'), { recursive: true })
  symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir')
  symlinkSync(join(ROOT, 'resources'), join(scratch, 'resources'), 'dir')
  const main = join(scratch, 'out', 'main', 'index.js')
  const code = readFileSync(main, 'utf8')
  const broken = code.replace(from, to)
  // A mutation that matches nothing would prove nothing.
  if (broken === code) throw new Error(`the bundle has no ${String(from)} to break`)
  writeFileSync(main, broken)
  return join(scratch, 'out')
}
