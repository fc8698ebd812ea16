// A RunPod network volume in real Chromium against `podpull serve` and the
// loopback fake of RunPod's API: the volume is listed with its datacenter and
// size (used space unknown until a pod with it was listed), its card offers
// "Fill…", the cost is confirmed in a dialog that says the price is an
// estimate, the CPU pod the fake brings up (a real sshd) shows on the card with
// its time and cost, "Remove pod" removes it, and the volume then shows the
// space its models use as listed through that pod.
import { expect, test } from '@playwright/test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeRunpod } from '../harness/runpodApi'
import { startSshd } from '../harness/sshd'
import { runCli, startServe } from './serveProcess'

test('a volume: listed, filled after the cost is confirmed, its pod on the card, removed', async ({
  page
}) => {
  test.setTimeout(240_000)
  const [fake, keys] = await Promise.all([startFakeRunpod(), startSshd()])
  const base = mkdtempSync(join(tmpdir(), 'podpull-e2e-volume-'))
  const ws = join(base, 'volume')
  mkdirSync(join(ws, 'ComfyUI', 'models', 'loras'), { recursive: true })
  // Already on the volume: what the listing through the fill pod must count.
  writeFileSync(join(ws, 'ComfyUI', 'models', 'loras', 'old.safetensors'), Buffer.alloc(2_000_000))
  fake.volumes.push({ id: 'vole2e', name: 'models', size: 75, dataCenterId: 'EU-RO-1' })
  const env = {
    PODPULL_HOME: join(base, 'home'),
    RUNPOD_API_KEY: fake.key,
    PODPULL_RUNPOD_ENDPOINT: fake.rest,
    PODPULL_RUNPOD_GRAPHQL: fake.graphql,
    SSH_AUTH_SOCK: ''
  }
  mkdirSync(env.PODPULL_HOME)
  const add = await runCli(
    ['targets', 'add-runpod-volume', 'vol', '--volume', 'models', '--key', keys.keyPath].concat([
      '--workspace',
      ws,
      '--comfyui',
      join(ws, 'ComfyUI')
    ]),
    env
  )
  expect(add.code, add.out).toBe(0)
  const serve = await startServe(env)
  try {
    await page.goto(serve.pageUrl)
    // The volumes live in the RunPod view; the targets column stays beside it.
    await page.getByTestId('view-tab-runpod').click()
    await page.getByTestId('volumes-refresh').click()
    const row = page.getByTestId('volume-vole2e')
    await expect(row.getByTestId('volume-meta')).toHaveText('EU-RO-1 · 75 GB')
    await expect(row.getByTestId('volume-target')).toHaveText('target "vol"')
    await expect(row.getByTestId('volume-used')).toHaveText(
      'used space unknown: no pod with this volume has been listed yet'
    )

    const card = page.locator('[data-testid^="target-"]').filter({ hasText: 'vol' }).first()
    await expect(card.getByTestId('fill-none')).toBeVisible()
    await card.getByTestId('fill-ask').click()
    const dialog = page.getByTestId('confirm-dialog')
    await expect(dialog).toContainText('≈ $0.06/h; removed when the downloads finish')
    await expect(dialog).toContainText("estimated from PodPull's")
    expect(fake.created).toHaveLength(0)
    await dialog.getByTestId('confirm').click()
    await expect(card.getByTestId('fill-pod')).toContainText('CPU fill pod', { timeout: 180_000 })
    await expect(card.getByTestId('fill-pod')).toContainText('RUNNING')
    expect(fake.created).toHaveLength(1)
    expect(fake.created[0]!.body).toMatchObject({ computeType: 'CPU', networkVolumeId: 'vole2e' })

    await card.getByTestId('fill-remove').click()
    await expect(card.getByTestId('fill-info')).toContainText('CPU pod ran')
    await expect(card.getByTestId('fill-none')).toBeVisible()
    expect(fake.deleted).toEqual([fake.created[0]!.podId])

    // The pod is gone; the listing taken through it stays, with its time.
    await page.getByTestId('volumes-refresh').click()
    await expect(row.getByTestId('volume-used')).toHaveText(
      /^models use 2\.0 MB of 75 GB, as of (just now|\d+ min ago)$/
    )
    expect(await page.content()).not.toContain(fake.key)
  } finally {
    await serve.stop()
    await fake.close()
    await keys.close()
    rmSync(base, { recursive: true, force: true })
  }
})
