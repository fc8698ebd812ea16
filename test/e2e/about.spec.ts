// About in the dashboard, in Chromium against `podpull serve`: the real
// versions (Node, the helper's own version) and where settings and logs live;
// Electron and Chromium are named absent, since serve runs under plain Node.
import { expect, test } from '@playwright/test'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startServe } from './serveProcess'

const HELPER = fileURLToPath(
  new URL('../../resources/helper/podpull_helper/__init__.py', import.meta.url)
)

test('Settings → About shows the versions and where settings and logs live', async ({ page }) => {
  const home = mkdtempSync(join(tmpdir(), 'podpull-about-'))
  const serve = await startServe({ PODPULL_HOME: home })
  try {
    await page.goto(serve.pageUrl)
    await page.getByTestId('view-tab-settings').click()
    const about = page.getByTestId('about')
    const helper = /^HELPER_VERSION\s*=\s*"([^"]+)"/m.exec(readFileSync(HELPER, 'utf8'))![1]!
    await expect(about.getByTestId('about-pod-helper')).toHaveText(helper)
    await expect(about.getByTestId('about-node')).toHaveText(/^\d+\.\d+\.\d+$/)
    await expect(about.getByTestId('about-electron')).toHaveText('not running in Electron')
    await expect(about.getByTestId('about-settings')).toHaveText(join(home, 'config.json'))
    await expect(about.getByTestId('about-logs')).toHaveText(join(home, 'logs'))
  } finally {
    await serve.stop()
  }
})
