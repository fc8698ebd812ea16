// The dashboard shows where a download really goes (real Chromium, real
// `podpull serve`): with a local target whose extra_model_paths.yaml sets a
// default loras folder elsewhere, pasting a LoRA link shows that folder, and
// Start puts the file there.
import { expect, test } from '@playwright/test'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startModelServer } from '../harness/modelServer'
import { runCli, startServe } from './serveProcess'

test('a LoRA link shows and uses the loras folder extra_model_paths.yaml sets', async ({
  page
}) => {
  const cdn = await startModelServer()
  const lora = cdn.addFile('/cdn/film-lora.safetensors', { size: 200_000, seed: 'film' })
  const base = mkdtempSync(join(tmpdir(), 'podpull-e2e-extra-'))
  const comfy = join(base, 'ComfyUI')
  const shared = join(base, 'shared', 'loras')
  mkdirSync(join(comfy, 'models', 'checkpoints'), { recursive: true })
  mkdirSync(shared, { recursive: true })
  writeFileSync(
    join(comfy, 'extra_model_paths.yaml'),
    'shared:\n  base_path: ../shared\n  is_default: true\n  loras: loras\n'
  )
  const home = join(base, 'home')
  mkdirSync(home)
  const env = { PODPULL_HOME: home }
  const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', comfy], env)
  expect(add.code, add.out).toBe(0)
  const serve = await startServe(env)
  try {
    await page.goto(serve.pageUrl)
    await page.getByTestId('url-input').fill(lora.url)
    await expect(page.getByTestId('folder-input')).toHaveValue('loras')
    await expect(page.getByTestId('destination')).toContainText(shared)
    await expect(page.getByTestId('destination')).toContainText('extra_model_paths.yaml')
    // Another folder is models/<folder> as usual.
    await page.getByTestId('folder-input').fill('vae')
    await expect(page.getByTestId('destination')).toContainText(join(comfy, 'models', 'vae'))
    await page.getByTestId('folder-input').fill('loras')
    await expect(page.getByTestId('destination')).toContainText(shared)
    await page.getByTestId('start-download').click()
    await expect
      .poll(() => existsSync(join(shared, 'film-lora.safetensors')), {
        timeout: 60_000
      })
      .toBe(true)
    expect(existsSync(join(comfy, 'models', 'loras', 'film-lora.safetensors'))).toBe(false)
  } finally {
    await serve.stop()
    await cdn.close()
  }
})
