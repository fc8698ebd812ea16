// The built shell links and starts under Node's own ESM loader (the one
// Electron uses for an ESM main), with `electron` answered by a stub hook
// (electronHook.mjs): every import resolves, the app:// scheme is registered
// at load time, and a second instance quits at once.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { brokenCopy, ROOT } from './scratchCopy'

const run = promisify(execFile)
const HOOK = join(__dirname, 'electronHook.mjs')
const start = (outDir: string) =>
  run(process.execPath, ['--import', HOOK, join(outDir, 'main', 'index.js')], { cwd: ROOT })

describe('the built shell under Node’s ESM loader', () => {
  it('loads, registers app:// before ready, and a second instance quits', async () => {
    const { stdout } = await start(join(ROOT, 'out'))
    expect(stdout.split('\n')).toEqual(['podpull-shell: schemes app', 'podpull-shell: quit', ''])
  })

  it('fails on an import the loader cannot link', async () => {
    const out = brokenCopy(
      'import ElectronStore from "electron-store";',
      'import { NoSuchExport } from "electron-store";'
    )
    await expect(start(out)).rejects.toThrow(/NoSuchExport/)
  })
})
