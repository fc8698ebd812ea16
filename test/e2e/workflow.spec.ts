// Workflow import on the dashboard (real Chromium, real `podpull serve`):
// drop a workflow, see the two models the target lacks (and the bypassed one it
// does not use, apart), download them with one click, and see the list turn
// complete. Hugging Face is the loopback stand-in reached through HF_ENDPOINT;
// the bytes come from the model server.
import { expect, test } from '@playwright/test'
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startHubServers } from '../harness/hubServer'
import { startModelServer } from '../harness/modelServer'
import { runCli, startServe } from './serveProcess'

test('a dropped workflow lists two missing models; one click downloads them and the list turns complete', async ({
  page
}) => {
  const cdn = await startModelServer()
  const hub = await startHubServers(cdn)
  const unet = cdn.addFile('/cdn/e2e-unet.safetensors', { size: 3 << 20, seed: 'e2e-unet' })
  const vae = cdn.addFile('/cdn/e2e-vae.safetensors', { size: 1 << 20, seed: 'e2e-vae' })
  hub.addRepo({
    id: 'Comfy-Org/e2e',
    files: [
      { path: 'split_files/diffusion_models/e2e-unet.safetensors', cdn: unet },
      { path: 'split_files/vae/e2e-vae.safetensors', cdn: vae }
    ]
  })
  const base = mkdtempSync(join(tmpdir(), 'podpull-e2e-wf-'))
  const comfy = join(base, 'ComfyUI')
  mkdirSync(join(comfy, 'models', 'checkpoints'), { recursive: true })
  const home = join(base, 'home')
  mkdirSync(home)
  const env = { PODPULL_HOME: home, HF_ENDPOINT: hub.hfUrl }
  const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', comfy], env)
  expect(add.code, add.out).toBe(0)
  const serve = await startServe(env)
  const HF = 'https://huggingface.co/Comfy-Org/e2e/resolve/main/split_files'
  const workflow = {
    // Bigger than the serve socket's 1 MiB message limit: the page parses it and sends only the models.
    extra: { notes: 'x'.repeat(2 << 20) },
    nodes: [
      {
        id: 1,
        type: 'UNETLoader',
        properties: {
          models: [
            {
              name: 'e2e-unet.safetensors',
              url: `${HF}/diffusion_models/e2e-unet.safetensors`,
              directory: 'diffusion_models'
            }
          ]
        },
        widgets_values: ['e2e-unet.safetensors', 'default']
      },
      {
        id: 2,
        type: 'VAELoader',
        properties: {
          models: [
            { name: 'e2e-vae.safetensors', url: `${HF}/vae/e2e-vae.safetensors`, directory: 'vae' }
          ]
        },
        widgets_values: ['e2e-vae.safetensors']
      },
      {
        // Bypassed: the workflow names it but does not use it, so it is never fetched.
        id: 3,
        type: 'LoraLoaderModelOnly',
        mode: 4,
        properties: {
          models: [
            {
              name: 'e2e-style.safetensors',
              url: `${HF}/loras/e2e-style.safetensors`,
              directory: 'loras'
            }
          ]
        },
        widgets_values: ['e2e-style.safetensors', 1]
      }
    ]
  }
  try {
    await page.goto(serve.pageUrl)
    await page.getByTestId('view-tab-models').click()
    await expect(page.getByTestId('models-panel')).toBeVisible()
    // A file drop as the browser delivers it (the page's own DataTransfer and File).
    const dataTransfer = await page.evaluateHandle(
      `(() => { const dt = new DataTransfer(); dt.items.add(new File([${JSON.stringify(JSON.stringify(workflow))}], 'flux_dev.json', { type: 'application/json' })); return dt })()`
    )
    await page.getByTestId('workflow-drop').dispatchEvent('drop', { dataTransfer })

    const missing = page.getByTestId('workflow-missing').locator('li')
    await expect(missing).toHaveCount(2)
    await expect(missing.nth(0)).toContainText('diffusion_models/e2e-unet.safetensors')
    await expect(missing.nth(1)).toContainText('vae/e2e-vae.safetensors')
    await expect(page.getByTestId('workflow-present').locator('li')).toHaveCount(0)
    const unused = page.getByTestId('workflow-unused').locator('li')
    await expect(unused).toHaveCount(1)
    await expect(unused.nth(0)).toContainText('loras/e2e-style.safetensors')
    await expect(unused.nth(0)).toContainText('its node is bypassed')

    await page.getByTestId('download-all-missing').click()

    await expect(page.getByTestId('workflow-complete')).toBeVisible({ timeout: 60_000 })
    await expect(page.getByTestId('workflow-present').locator('li')).toHaveCount(2)
    await expect(missing).toHaveCount(0)
    expect(existsSync(join(comfy, 'models', 'diffusion_models', 'e2e-unet.safetensors'))).toBe(true)
    expect(existsSync(join(comfy, 'models', 'vae', 'e2e-vae.safetensors'))).toBe(true)
    await expect(unused).toHaveCount(1)
    expect(existsSync(join(comfy, 'models', 'loras', 'e2e-style.safetensors'))).toBe(false)
  } finally {
    await serve.stop()
    await hub.close()
    await cdn.close()
  }
})
