// A bandwidth cap set in the target dialog (real Chromium, real `podpull serve`),
// with the keyboard only: the card shows the cap in force, the CLI sees the same
// limits, and the dialog opens again with them filled in. A bad speed is named
// in the dialog and nothing is saved.
import AxeBuilder from '@axe-core/playwright'
import { expect, test } from '@playwright/test'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startServe } from './serveProcess'

const hhmm = (h: number): string => `${String(((h % 24) + 24) % 24).padStart(2, '0')}:00`

test('a cap and a schedule set in the target dialog show on the card and in the CLI', async ({
  page
}) => {
  const base = mkdtempSync(join(tmpdir(), 'podpull-e2e-bw-'))
  const comfy = join(base, 'ComfyUI')
  mkdirSync(join(comfy, 'models', 'checkpoints'), { recursive: true })
  const home = join(base, 'home')
  mkdirSync(home)
  const env = { PODPULL_HOME: home }
  const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', comfy], env)
  expect(add.code, add.out).toBe(0)
  const serve = await startServe(env)
  try {
    await page.goto(serve.pageUrl)
    await page.getByRole('button', { name: 'Edit studio' }).click()
    const dialog = page.getByTestId('target-dialog')
    const editor = dialog.getByTestId('bandwidth-editor')
    await expect(editor).toBeVisible()
    const scan = await new AxeBuilder({ page }).include('[data-testid="target-dialog"]').analyze()
    const bad = scan.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual(
      []
    )

    // A bad speed: one clear line, the field marked, nothing saved.
    await editor.getByLabel('Max speed', { exact: true }).focus()
    await page.keyboard.type('fast')
    await page.keyboard.press('Enter')
    await expect(editor.getByRole('alert')).toHaveText(
      'Max speed: "fast" is not a number (e.g. 5 or 2.5).'
    )
    await expect(editor.getByLabel('Max speed', { exact: true })).toHaveAttribute(
      'aria-invalid',
      'true'
    )

    // 5 MB/s, and an unlimited window that starts two hours from now (UTC),
    // so the cap in force is 5 MB/s until then whatever the time of the run.
    const now = new Date().getUTCHours()
    await editor.getByLabel('Max speed', { exact: true }).fill('5')
    await page.keyboard.press('Tab') // the unit: MB/s already
    await page.keyboard.press('Tab') // "Add a window"
    await expect(editor.getByTestId('bw-add')).toBeFocused()
    await page.keyboard.press('Enter')
    await editor.getByLabel('Window 1 from').fill(hhmm(now + 2))
    await editor.getByLabel('Window 1 to').fill(hhmm(now + 3))
    await expect(editor.getByLabel('Window 1 unlimited')).toBeChecked()
    await editor.getByLabel('Time zone').fill('UTC')
    await editor.getByLabel('Time zone').press('Enter') // submits the form
    await expect(dialog).toBeHidden()

    const card = page.getByTestId('targets').getByTestId('target-cap')
    await expect(card).toHaveText(`cap 5.0 MB/s until ${hhmm(now + 2)}`)
    await expect(page.getByTestId('header-caps')).toContainText('studio: 5.0 MB/s')

    const list = await runCli(['targets', 'list'], env)
    expect(list.out).toContain(`cap 5.0 MB/s until ${hhmm(now + 2)}`)

    // Opened again, after a reload: the fields hold what was saved.
    await page.reload()
    await page.getByRole('button', { name: 'Edit studio' }).click()
    await expect(editor.getByLabel('Max speed', { exact: true })).toHaveValue('5')
    await expect(editor.getByLabel('Window 1 from')).toHaveValue(hhmm(now + 2))
    await expect(editor.getByLabel('Window 1 to')).toHaveValue(hhmm(now + 3))
    await expect(editor.getByLabel('Time zone')).toHaveValue('UTC')
  } finally {
    await serve.stop()
    rmSync(base, { recursive: true, force: true })
  }
})
