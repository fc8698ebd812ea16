// The shell test must catch a broken shell. Each case copies the built out/
// to a scratch folder, breaks one thing in the bundle on purpose (the preload
// path, the app:// containment, a channel handler, the quit path) and expects
// the matching check of shellChecks.ts to fail on it.
import { describe, expect, it, vi } from 'vitest'
import { brokenCopy } from './scratchCopy'
import { checkChannels, checkQuit, checkScheme, checkWindow } from './shellChecks'

vi.mock('electron', async () => (await import('./fakeElectron')).electronModuleProxy())

describe('the shell test fails on a broken shell', () => {
  it('a preload path that does not exist after the build', async () => {
    const out = brokenCopy('"../preload/index.cjs"', '"../preload/index.js"')
    await expect(checkWindow(out)).rejects.toThrow(/preload/)
  })

  it('app:// that resolves files outside out/renderer', async () => {
    const out = brokenCopy(
      /function resolveRendererFile\([^)]*\)[^{]*\{[\s\S]*?\n\}\n/,
      'function resolveRendererFile(dir, u) { return join(dir, decodeURIComponent(new URL(u).pathname)); }\n'
    )
    await expect(checkScheme(out)).rejects.toThrow()
  })

  it('an API method without a channel handler', async () => {
    const out = brokenCopy(
      'for (const method of API_METHODS)',
      'for (const method of API_METHODS.slice(1))'
    )
    await expect(checkChannels(out)).rejects.toThrow()
  })

  it('a sender check that trusts any page', async () => {
    const out = brokenCopy(
      /(var|const) trusted = \(url\) => [^;\n]+/,
      'var trusted = (url) => true'
    )
    await expect(checkChannels(out)).rejects.toThrow()
  })

  it('quitting without pausing the downloads', async () => {
    const out = brokenCopy('podpull.dispose()', 'Promise.resolve()')
    await expect(checkQuit(out)).rejects.toThrow()
  })

  it('quitting that never exits', async () => {
    const out = brokenCopy('.finally(() => app.exit(0))', '.finally(() => {})')
    // This shell is expected to hang: a short bound keeps the run quick.
    await expect(checkQuit(out, { exitTimeoutMs: 3000 })).rejects.toThrow(/did not exit/)
  })
})
