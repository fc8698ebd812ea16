// Pasting a Civitai link on the dashboard (real Chromium, real `podpull serve`,
// the loopback Civitai and its image host): the preview shows the model's
// picture, served by main on the page's own origin (the page asks no other
// host), its facts and trigger words and where it will be saved; then the
// download lands in exactly that folder.
import { expect, test } from '@playwright/test'
import { existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hubEnv, startHubServers } from '../harness/hubServer'
import { startModelServer } from '../harness/modelServer'
import { pngOf } from '../harness/pictures'
import { seriousA11yFindings } from './axe'
import { runCli, startServe } from './serveProcess'

test('a pasted Civitai link shows its picture and facts, and downloads into the folder shown', async ({
  page
}) => {
  const cdn = await startModelServer()
  const hub = await startHubServers(cdn)
  const lora = cdn.addFile('/cdn/e2e-pixel.safetensors', { size: 2 << 20, seed: 'e2e-pixel' })
  hub.addImage('/img/e2e/width=832/cover.png', {
    body: pngOf(96, 128, [60, 140, 220]),
    contentType: 'image/png'
  })
  hub.addCivitaiModel({
    id: 700,
    name: 'Pixel Art XL',
    type: 'LORA',
    versions: [
      {
        id: 701,
        name: 'v1.1',
        baseModel: 'SDXL 1.0',
        trainedWords: ['pixel art', '8-bit'],
        images: [{ path: '/img/e2e/width=832/cover.png', width: 96, height: 128 }],
        files: [{ cdn: lora, name: 'pixel-art-xl.safetensors' }]
      }
    ]
  })
  const base = mkdtempSync(join(tmpdir(), 'podpull-e2e-preview-'))
  const comfy = join(base, 'ComfyUI')
  mkdirSync(join(comfy, 'models', 'checkpoints'), { recursive: true })
  const home = join(base, 'home')
  mkdirSync(home)
  const env = { PODPULL_HOME: home, ...hubEnv(hub) }
  const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', comfy], env)
  expect(add.code, add.out).toBe(0)
  const serve = await startServe(env)
  const origins = new Set<string>()
  page.on('request', (r) => origins.add(new URL(r.url()).origin))
  try {
    await page.goto(serve.pageUrl)
    await expect(page.getByTestId('targets').getByText('studio')).toBeVisible()
    await page.getByTestId('url-input').fill('https://civitai.com/models/700?modelVersionId=701')

    const card = page.getByTestId('link-preview')
    await expect(card.getByTestId('link-preview-name')).toHaveText(/Pixel Art XL\s+· v1.1/)
    await expect(card.getByTestId('link-preview-type')).toHaveText('LoRA')
    await expect(card.getByTestId('link-preview-base')).toHaveText('SDXL 1.0')
    await expect(card.getByTestId('link-preview-size')).toHaveText('2.1 MB')
    await expect(card.getByTestId('link-preview-folder')).toHaveText('loras')
    await expect(card.getByTestId('link-preview-access')).toHaveText('Free to download')
    await expect(card.getByTestId('link-preview-words').locator('li')).toHaveText([
      'pixel art',
      '8-bit'
    ])
    const img = card.getByTestId('link-preview-image')
    await expect(img).toHaveAttribute('src', /^\/hub-image\/[0-9a-f]{32}$/)
    // Decoded: main fetched the picture and the page got it from its own origin.
    await expect
      .poll(() =>
        img.evaluate((el) => {
          const pic = el as unknown as { complete: boolean; naturalWidth: number }
          return pic.complete ? pic.naturalWidth : 0
        })
      )
      .toBe(96)
    const shown = join(comfy, 'models', 'loras')
    await expect(page.getByTestId('destination')).toContainText(shown)
    expect(await seriousA11yFindings(page, '[data-testid="add-download"]')).toEqual([])

    await page.getByTestId('start-download').click()
    await expect(page.getByTestId('add-download-notice')).toHaveText(
      'Started pixel-art-xl.safetensors.'
    )
    const file = join(shown, 'pixel-art-xl.safetensors')
    await expect
      .poll(() => existsSync(file) && statSync(file).size, { timeout: 60_000 })
      .toBe(lora.size)

    // The page never talked to the image host (or any other); main did, without a token.
    expect([...origins]).toEqual([serve.url])
    const asked = hub.log.filter((l) => l.host === 'images')
    expect(asked.map((l) => [l.path, l.authorization])).toEqual([
      ['/img/e2e/width=832/cover.png', undefined]
    ])
  } finally {
    await serve.stop()
    await hub.close()
    await cdn.close()
  }
})
