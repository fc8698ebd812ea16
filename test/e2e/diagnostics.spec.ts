// Settings → "Save diagnostics" in real Chromium against `podpull serve`: the
// archive lands under PODPULL_HOME/diagnostics, the dialog says where, and the
// token the server runs with is not in it.
import { expect, test } from '@playwright/test'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { extract } from 'tar'
import { runCli, startServe } from './serveProcess'

const HF_TOKEN = 'hf_E2eDiagnosticsToken0123'

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? filesUnder(p) : [p]
  })
}

test('Settings saves one diagnostics archive without the token in it', async ({ page }) => {
  const base = mkdtempSync(join(tmpdir(), 'podpull-e2e-diag-'))
  const comfy = join(base, 'ComfyUI')
  mkdirSync(join(comfy, 'models', 'loras'), { recursive: true })
  const home = join(base, 'home')
  mkdirSync(home)
  const env = { PODPULL_HOME: home, HF_TOKEN }
  const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', comfy], env)
  expect(add.code, add.out).toBe(0)
  const serve = await startServe(env)
  try {
    await page.goto(serve.pageUrl)
    await page.getByTestId('view-tab-settings').click()
    await page.getByTestId('save-diagnostics').click()
    const saved = page.getByTestId('diagnostics-saved')
    await expect(saved).toContainText(join(home, 'diagnostics'))
    const archive = /(\/\S+\.tar\.gz)/.exec((await saved.textContent()) ?? '')![1]!
    const out = mkdtempSync(join(tmpdir(), 'podpull-e2e-diag-x-'))
    await extract({ file: archive.replace(/:$/, ''), cwd: out })
    const files = filesUnder(out)
    expect(files.some((f) => f.endsWith('targets/studio/status.json'))).toBe(true)
    for (const f of files) expect(readFileSync(f, 'utf8')).not.toContain(HF_TOKEN)
  } finally {
    await serve.stop()
  }
})
