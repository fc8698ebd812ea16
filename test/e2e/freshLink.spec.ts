// "Continue with a new link…" in real Chromium against `podpull serve`: a
// download whose signed link expired halfway shows its error without the
// signature, and finishes from its kept .part with a fresh link pasted into
// the row's dialog.
import { expect, test } from '@playwright/test'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startModelServer } from '../harness/modelServer'
import { runCli, startServe } from './serveProcess'

test('an expired signed link: the row offers a new link and finishes from the .part', async ({
  page
}) => {
  const srv = await startModelServer()
  const base = mkdtempSync(join(tmpdir(), 'podpull-e2e-relink-'))
  const comfy = join(base, 'ComfyUI')
  mkdirSync(join(comfy, 'models', 'loras'), { recursive: true })
  const env = { PODPULL_HOME: join(base, 'home') }
  mkdirSync(env.PODPULL_HOME)
  const size = 8 << 20
  const f = srv.addFile('/e2e/relink.safetensors', {
    size,
    seed: 'relink',
    requireQuery: { 'X-Amz-Signature': 'e2eoldsig' },
    expireAfterBytes: size / 2
  })
  const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', comfy], env)
  expect(add.code, add.out).toBe(0)
  const dl = await runCli(
    ['download', `${f.url}?X-Amz-Signature=e2eoldsig`, '--target', 'studio', '--folder', 'loras'],
    env
  )
  expect(dl.code, dl.out).toBe(1)
  const serve = await startServe(env)
  try {
    await page.goto(serve.pageUrl)
    const row = page.locator('[data-testid^="download-"][data-state]').first()
    await expect(row).toHaveAttribute('data-state', 'error')
    await expect(row.getByTestId('download-error')).toContainText('paste a fresh link')
    srv.setFaults(f.path, {
      requireQuery: { 'X-Amz-Signature': 'e2enewsig' },
      expireAfterBytes: undefined
    })
    await row.getByTestId('relink').click()
    const dialog = page.getByTestId('fresh-link-dialog')
    await dialog.getByTestId('fresh-link-url').fill(`${f.url}?X-Amz-Signature=e2enewsig`)
    await dialog.getByTestId('fresh-link-continue').click()
    await expect(dialog).toBeHidden()
    await expect(row).toHaveAttribute('data-state', 'completed', { timeout: 30_000 })
    expect(srv.bytesServed(f.path)).toBeLessThanOrEqual(size * 1.05)
    const html = await page.content()
    expect(html).not.toContain('e2eoldsig')
    expect(html).not.toContain('e2enewsig')
  } finally {
    await serve.stop()
    await srv.close()
  }
})
