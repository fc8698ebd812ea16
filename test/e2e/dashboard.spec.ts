// The dashboard in real Chromium against the real `podpull serve`, the real
// loopback model server, and (for pods) a real sshd.
import { expect, test, type Page } from '@playwright/test'
import { mkdirSync, mkdtempSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { runCli, startServe, type ServeProcess } from './serveProcess'
import { fileURLToPath } from 'node:url'

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots', import.meta.url))
const DOCS_SHOTS = fileURLToPath(new URL('../../docs/screenshots', import.meta.url))

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  const file = join(SHOTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  if (process.env.UPDATE_DOCS_SCREENSHOTS) {
    mkdirSync(DOCS_SHOTS, { recursive: true })
    copyFileSync(file, join(DOCS_SHOTS, `${name}.png`))
  }
}

function freshComfy(): { home: string; comfy: string } {
  const base = mkdtempSync(join(tmpdir(), 'podpull-e2e-'))
  const comfy = join(base, 'ComfyUI')
  for (const f of ['checkpoints', 'loras', 'vae'])
    mkdirSync(join(comfy, 'models', f), { recursive: true })
  const home = join(base, 'home')
  mkdirSync(home)
  return { home, comfy }
}

async function progressOf(page: Page, id: string): Promise<number> {
  // By attribute, not by role: a completed row's bar is folded away (hidden),
  // and a role query skips hidden elements.
  const v = await page
    .getByTestId(`download-${id}`)
    .locator('[role="progressbar"]')
    .getAttribute('aria-valuenow')
  return Number(v)
}

async function rowIds(page: Page): Promise<string[]> {
  const ids = await page
    .locator('[data-testid^="download-"][data-state]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.slice('download-'.length)))
  return ids
}

test('the empty dashboard says what to do next', async ({ page }) => {
  const { home } = freshComfy()
  const serve = await startServe({ PODPULL_HOME: home })
  try {
    await page.goto(serve.pageUrl)
    await expect(page.getByTestId('targets')).toBeVisible()
    await expect(page.getByTestId('empty-targets')).toBeVisible()
    await expect(page.getByTestId('downloads')).toBeVisible()
    await expect(page.getByTestId('empty-downloads')).toBeVisible()
    await shot(page, 'empty')
  } finally {
    await serve.stop()
  }
})

test('views switch by click and keyboard; the targets column stays; shortcuts focus', async ({
  page
}) => {
  const { home } = freshComfy()
  const serve = await startServe({ PODPULL_HOME: home })
  try {
    await page.goto(serve.pageUrl)
    const tabs = page.getByRole('tablist', { name: 'Views' }).getByRole('tab')
    await expect(tabs).toHaveText(['Downloads', 'Models', 'Sets', 'RunPod', 'Settings'])
    await expect(page.getByTestId('downloads')).toBeVisible()
    await expect(page.getByTestId('models-panel')).toBeHidden()

    await page.getByRole('tab', { name: 'Downloads' }).focus()
    await page.keyboard.press('ArrowRight')
    await expect(page.getByRole('tab', { name: 'Models' })).toBeFocused()
    await expect(page.getByTestId('models-panel')).toBeVisible()
    await expect(page.getByTestId('downloads')).toBeHidden()
    await page.keyboard.press('ArrowRight')
    await expect(page.getByTestId('sets-view')).toBeVisible()
    await page.keyboard.press('ArrowRight')
    await expect(page.getByRole('tabpanel', { name: 'RunPod' })).toBeVisible()
    await expect(page.getByTestId('runpod')).toBeVisible()
    await expect(page.getByTestId('targets')).toBeVisible()
    await page.keyboard.press('ArrowRight')
    await expect(page.getByTestId('settings-panel')).toBeVisible()

    await page.keyboard.press('Control+l')
    await expect(page.getByTestId('url-input')).toBeFocused()
    await page.getByTestId('url-input').blur()
    await page.keyboard.press('/')
    await expect(page.getByTestId('installed-search')).toBeFocused()
    await expect(page.getByTestId('installed-search')).toHaveValue('')
  } finally {
    await serve.stop()
  }
})

test.describe('local downloads from the dashboard', () => {
  let srv: ModelServer
  let serve: ServeProcess
  let comfy: string
  let home: string

  test.beforeAll(async () => {
    srv = await startModelServer()
    ;({ home, comfy } = freshComfy())
    serve = await startServe({ PODPULL_HOME: home })
  })
  test.afterAll(async () => {
    await serve?.stop()
    await srv?.close()
  })

  test('add a target, download, reload, restart, pause/resume/cancel/retry, errors, clear', async ({
    page
  }) => {
    // Slow enough to still be running when the test pauses and cancels them: the
    // throttle is per connection and the engine uses up to 8, so 64 KiB/s each
    // is ≤ 512 KiB/s a file (≥ 48 s); the throttles are lifted near the end.
    const slow = srv.addFile('/e2e/slow-lora.safetensors', {
      size: 24 << 20,
      seed: 's',
      throttleBps: 64 << 10
    })
    const medium = srv.addFile('/e2e/medium-vae.safetensors', {
      size: 24 << 20,
      seed: 'm',
      throttleBps: 64 << 10
    })
    const fast = srv.addFile('/e2e/fast-model.safetensors', { size: 2 << 20, seed: 'f' })
    const login = srv.addFile('/e2e/gated.safetensors', {
      size: 1 << 20,
      seed: 'g',
      htmlLogin: true
    })

    await page.goto(serve.pageUrl)

    // Add the local target.
    await page.getByTestId('add-target').click()
    const dialog = page.getByTestId('target-dialog')
    await dialog.getByTestId('target-name').fill('studio')
    await dialog.getByTestId('target-comfyui').fill(comfy)
    await dialog.getByTestId('target-save').click()
    await expect(page.getByTestId('targets')).toContainText('studio')

    // Start three downloads, one throttled heavily.
    const start = async (url: string, folder: string): Promise<void> => {
      await page.getByTestId('url-input').fill(url)
      await expect(page.getByTestId('add-download')).toContainText('.safetensors')
      await page.getByTestId('folder-input').fill(folder)
      await page.getByTestId('start-download').click()
    }
    await start(slow.url, 'loras')
    await start(medium.url, 'vae')
    await start(fast.url, 'checkpoints')
    await expect(page.locator('[data-state="completed"]')).toHaveCount(1, { timeout: 30_000 })
    await expect(page.locator('[data-state="downloading"]')).toHaveCount(2)
    await shot(page, 'downloading')

    // Reload mid-download: every bar is back at once, at its value, and moves on.
    const before = new Map<string, number>()
    for (const id of await rowIds(page)) before.set(id, await progressOf(page, id))
    const t0 = Date.now()
    await page.reload()
    await expect(page.locator('[data-testid^="download-"][data-state]')).toHaveCount(3)
    const restoreMs = Date.now() - t0
    for (const [id, p] of before) expect(await progressOf(page, id)).toBeGreaterThanOrEqual(p)
    const restoredTiming = await page.evaluate(() => {
      // Runs in the page; this file is typed for Node, so name only what is read.
      const nav = (
        performance.getEntriesByType as unknown as (
          t: string
        ) => { domContentLoadedEventEnd: number }[]
      )('navigation')[0]
      return nav ? nav.domContentLoadedEventEnd : null
    })
    test.info().annotations.push({
      type: 'reload-restore-ms',
      description: `${restoreMs} (DOMContentLoaded ${restoredTiming})`
    })

    // Restart the server mid-download: restored, and the local downloads resume.
    const moving = (await rowIds(page))[0]!
    await serve.restart()
    await expect(page.locator('[data-state="downloading"]')).toHaveCount(2, { timeout: 20_000 })
    const p1 = await progressOf(page, moving)
    await expect.poll(async () => progressOf(page, moving), { timeout: 20_000 }).toBeGreaterThan(p1)

    // Pause, then resume one.
    const row = page.locator('[data-state="downloading"]').first()
    const rowId = (await row.getAttribute('data-testid'))!.slice('download-'.length)
    await row.getByTestId('pause').click()
    await expect(page.getByTestId(`download-${rowId}`)).toHaveAttribute('data-state', 'paused')
    await page.getByTestId(`download-${rowId}`).getByTestId('resume').click()
    await expect(page.getByTestId(`download-${rowId}`)).toHaveAttribute(
      'data-state',
      /downloading|queued|starting/
    )

    // Cancel the other, with confirmation; retry brings it back.
    const otherRow = page
      .locator(
        `[data-testid^="download-"][data-state="downloading"]:not([data-testid="download-${rowId}"])`
      )
      .first()
    await expect(otherRow).toBeVisible()
    const otherId = (await otherRow.getAttribute('data-testid'))!.slice('download-'.length)
    await otherRow.getByTestId('cancel').click()
    await page.getByTestId('confirm').click()
    await expect(page.getByTestId(`download-${otherId}`)).toHaveAttribute('data-state', 'cancelled')
    await page.getByTestId(`download-${otherId}`).getByTestId('retry').click()
    await expect(page.getByTestId(`download-${otherId}`)).toHaveAttribute(
      'data-state',
      /queued|starting|downloading/
    )

    // A failed download shows its reason.
    await page.getByTestId('url-input').fill(login.url)
    await page
      .getByTestId('folder-input')
      .fill('checkpoints')
      .catch(() => undefined)
    await page.getByTestId('start-download').click()
    const errorText = page
      .getByTestId('add-download-notice')
      .or(page.locator('[data-state="error"]').getByTestId('download-error'))
    await expect(errorText.first()).toContainText(/login|HTML|token/i)
    srv.setFaults('/e2e/slow-lora.safetensors', { throttleBps: undefined })
    srv.setFaults('/e2e/medium-vae.safetensors', { throttleBps: undefined })
    await shot(page, 'errors')

    // Everything finishes; clear completed empties those rows.
    await expect(page.locator('[data-state="completed"]')).toHaveCount(3, { timeout: 60_000 })
    await page.getByTestId('clear-completed').click()
    await expect(page.locator('[data-state="completed"]')).toHaveCount(0)
  })
})

test.describe('pods', () => {
  test('a pod stays visible as "last seen" while its sshd is down and goes live when it returns', async ({
    page
  }) => {
    const { startSshd } = await import('../harness/sshd')
    const srv = await startModelServer()
    const sshd = await startSshd()
    const { home } = freshComfy()
    const ws = mkdtempSync(join(tmpdir(), 'podpull-e2e-pod-'))
    mkdirSync(join(ws, 'ComfyUI', 'models', 'loras'), { recursive: true })
    const env = { PODPULL_HOME: home }
    const add = await runCli(
      [
        'targets',
        'add-ssh',
        'pod1',
        '--host',
        '127.0.0.1',
        '--port',
        String(sshd.port),
        '--user',
        sshd.user,
        '--key',
        sshd.keyPath,
        '--workspace',
        ws,
        '--comfyui',
        join(ws, 'ComfyUI'),
        '--accept-new-host-key'
      ],
      env
    )
    expect(add.code, add.out).toBe(0)
    // 64 KiB/s per connection, up to 8: still running when the page opens.
    const f = srv.addFile('/e2e/pod-lora.safetensors', {
      size: 16 << 20,
      seed: 'p',
      throttleBps: 64 << 10
    })
    const dl = await runCli(
      ['download', f.url, '--target', 'pod1', '--folder', 'loras', '--detach'],
      env
    )
    expect(dl.code, dl.out).toBe(0)
    const serve = await startServe(env)
    try {
      await page.goto(serve.pageUrl)
      const row = page.locator('[data-testid^="download-"][data-state]').first()
      await expect(row).toHaveAttribute('data-state', /downloading|starting|queued/)
      await sshd.stop()
      await expect(page.getByTestId('targets').getByTestId('last-seen').first()).toBeVisible({
        timeout: 45_000
      })
      await expect(page.locator('[data-testid^="download-"][data-state]')).toHaveCount(1)
      await shot(page, 'pod-offline')
      await sshd.start()
      await expect(page.getByTestId('targets').getByTestId('last-seen')).toHaveCount(0, {
        timeout: 60_000
      })
      srv.setFaults('/e2e/pod-lora.safetensors', { throttleBps: undefined })
      await expect(row).toHaveAttribute('data-state', 'completed', { timeout: 60_000 })
    } finally {
      await serve.stop()
      await sshd.stop()
      await srv.close()
    }
  })
})
