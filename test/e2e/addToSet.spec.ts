// "Add to set…" from the model library (real Chromium, real `podpull serve`, a
// real local target): a downloaded file goes in as its link, a file found on
// disk as itself by sha256; the set file can be saved, and the set opens in
// the Sets view ready to apply.
import { expect, test } from '@playwright/test'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startModelServer } from '../harness/modelServer'
import { localEntry, urlEntry } from '../support/setEntries'
import { seriousA11yFindings } from './axe'
import { runCli, startServe } from './serveProcess'

test('ticked files go into a new set: saved as a file and opened in Sets', async ({ page }) => {
  const cdn = await startModelServer()
  const lora = cdn.addFile('/e2e/detail.safetensors', { size: 300_000, seed: 'e2e-set-detail' })
  const base = mkdtempSync(join(tmpdir(), 'podpull-e2e-addset-'))
  const comfy = join(base, 'ComfyUI')
  mkdirSync(join(comfy, 'models', 'checkpoints'), { recursive: true })
  const mine = Buffer.from('a merge of my own')
  writeFileSync(join(comfy, 'models', 'checkpoints', 'merge.safetensors'), mine)
  const home = join(base, 'home')
  mkdirSync(home)
  const env = { PODPULL_HOME: home }
  const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', comfy], env)
  expect(add.code, add.out).toBe(0)
  const got = await runCli(['download', lora.url, '--target', 'studio', '--folder', 'loras'], env)
  expect(got.code, got.out).toBe(0)
  const serve = await startServe(env)
  try {
    await page.goto(serve.pageUrl)
    await page.getByTestId('view-tab-models').click()
    await page.getByTestId('models-tab-installed').click()
    await expect(page.getByTestId('installed-row')).toHaveCount(2)
    await page.getByLabel('Select all shown files').check()
    await page.getByTestId('add-to-set').click()
    const dialog = page.getByTestId('add-to-set-dialog')
    await expect(dialog).toContainText('Add 2 files to a set')
    await dialog.getByTestId('add-to-set-new').check()
    await dialog.getByTestId('add-to-set-name').fill('studio picks')
    expect(await seriousA11yFindings(page, '[data-testid="add-to-set-dialog"]')).toEqual([])
    await dialog.getByTestId('add-to-set-confirm').click()
    await expect(dialog.getByTestId('add-to-set-result')).toHaveText(
      'Added 2 files to “studio picks”; it has 2 in all.'
    )

    const [file] = await Promise.all([
      page.waitForEvent('download'),
      dialog.getByTestId('add-to-set-save').click()
    ])
    expect(file.suggestedFilename()).toBe('studio-picks.podpull.json')
    const saved = JSON.parse(readFileSync((await file.path())!, 'utf8'))
    expect(saved).toMatchObject({ format: 'podpull-model-set', version: 1, name: 'studio picks' })
    expect(saved.models).toEqual([
      localEntry('checkpoints', 'merge.safetensors', mine),
      urlEntry('loras', 'detail.safetensors', lora)
    ])

    await dialog.getByTestId('add-to-set-show').click()
    await expect(page.getByTestId('view-sets')).toBeVisible()
    await expect(page.getByTestId('set-name')).toHaveText(/studio picks\s+— 2 models/)
  } finally {
    await serve.stop()
    await cdn.close()
  }
})
