// Every view, from the seeded demo state through the real `podpull serve` in
// Chromium: an accessibility scan (axe-core: no serious or critical findings)
// and a screenshot compared with the stored baseline, at 1280 and 760 px wide.
// What differs by machine and by minute (free space, "last seen", paths and
// versions in About) is masked. Baselines: `npx playwright test
// test/e2e/views.spec.ts --update-snapshots`; README pictures: `npm run screenshots`.
import AxeBuilder from '@axe-core/playwright'
import { expect, test, type Page } from '@playwright/test'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { seedDemo } from './demoState'
import { startServe, type ServeProcess } from './serveProcess'

const VIEWS = ['downloads', 'models', 'sets', 'runpod', 'settings'] as const
const WIDTHS = [1280, 760] as const
const DOCS = fileURLToPath(new URL('../../docs/screenshots', import.meta.url))

let serve: ServeProcess
test.beforeAll(async () => {
  const demo = await seedDemo()
  serve = await startServe(demo.env)
})
test.afterAll(async () => {
  await serve?.stop()
})

/** The view as a user opens it: the Models view on its library. */
async function open(page: Page, view: (typeof VIEWS)[number]): Promise<void> {
  await page.getByTestId(`view-tab-${view}`).click()
  await expect(page.getByTestId(`view-${view}`)).toBeVisible()
  if (view === 'models') {
    await page.getByTestId('models-tab-installed').click()
    await expect(page.getByTestId('installed-row')).toHaveCount(9)
    await expect(page.getByTestId('partial-row')).toHaveCount(1)
  }
  if (view === 'settings') await expect(page.getByTestId('settings-panel')).toBeVisible()
}

const masks = (page: Page) => [
  page.getByTestId('disk-use'),
  // The demo's temporary folder and the disk's free space.
  page.locator('.target-where'),
  page.locator('.target-facts'),
  page.getByTestId('about')
]

for (const width of WIDTHS)
  for (const view of VIEWS)
    test(`${view} view at ${width} px: no serious accessibility findings, looks as stored`, async ({
      page
    }) => {
      await page.setViewportSize({ width, height: 900 })
      await page.goto(serve.pageUrl)
      await expect(page.getByTestId('targets').getByText('studio')).toBeVisible()
      await open(page, view)

      const scan = await new AxeBuilder({ page }).analyze()
      const bad = scan.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      expect(
        bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
      ).toEqual([])

      await expect(page).toHaveScreenshot(`${view}-${width}.png`, {
        fullPage: true,
        mask: masks(page),
        animations: 'disabled',
        // Font hinting differs a little between machines; layout changes do not hide in 2%.
        maxDiffPixelRatio: 0.02
      })
      if (process.env.UPDATE_DOCS_SCREENSHOTS && width === 1280) {
        mkdirSync(DOCS, { recursive: true })
        const file = test.info().outputPath(`${view}.png`)
        await page.screenshot({ path: file, fullPage: true, animations: 'disabled' })
        copyFileSync(file, join(DOCS, `view-${view}.png`))
      }
    })
