// Duplicates and find-by-hash in the model library (real Chromium, real
// `podpull serve`, two real local targets, a loopback Civitai), with the
// keyboard: a model copied under a second name is found, kept once as two
// names of one file, and its sha256 (or AutoV2) says where it is on every
// target and which Civitai model it is.
import { expect, test } from '@playwright/test'
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { contentOf } from '../harness/content'
import { startModelServer } from '../harness/modelServer'
import { hubEnv, startHubServers } from '../harness/hubServer'
import { seriousA11yFindings } from './axe'
import { runCli, startServe } from './serveProcess'

/** A ComfyUI folder holding these files (path under models/ → bytes). */
function comfyWith(base: string, name: string, files: Record<string, Buffer>): string {
  const comfy = join(base, name, 'ComfyUI')
  for (const [rel, bytes] of Object.entries(files)) {
    const path = join(comfy, 'models', rel)
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, bytes)
  }
  return comfy
}

test('a model stored twice is kept once with both names, and found by its hash everywhere', async ({
  page
}) => {
  const cdn = await startModelServer()
  const hub = await startHubServers(cdn)
  const size = 300_000
  const seed = 'e2e-content-flux-mini'
  const served = cdn.addFile('/cdn/flux-mini.safetensors', { size, seed })
  hub.addCivitaiModel({
    id: 900,
    name: 'Flux Mini',
    type: 'Checkpoint',
    versions: [
      {
        id: 901,
        name: 'v2.0',
        baseModel: 'Flux.1 D',
        files: [{ cdn: served, name: 'flux-mini.safetensors' }]
      }
    ]
  })
  const model = contentOf(size, seed)
  const sha = served.sha256
  const base = mkdtempSync(join(tmpdir(), 'podpull-e2e-content-'))
  const studio = comfyWith(base, 'studio', {
    'checkpoints/flux-mini.safetensors': model,
    'checkpoints/flux-mini-copy.safetensors': model,
    'loras/detail.safetensors': contentOf(50_000, 'e2e-content-detail')
  })
  const laptop = comfyWith(base, 'laptop', { 'diffusion_models/flux-mini.safetensors': model })
  const home = join(base, 'home')
  mkdirSync(home)
  const env = { PODPULL_HOME: home, ...hubEnv(hub) }
  for (const [name, comfy] of [
    ['studio', studio],
    ['laptop', laptop]
  ]) {
    const add = await runCli(['targets', 'add-local', name!, '--comfyui', comfy!], env)
    expect(add.code, add.out).toBe(0)
  }
  const serve = await startServe(env)
  try {
    // The app hashes what it finds on disk in the background; the library
    // shows what the content index holds, so the test waits until it holds all.
    for (const name of ['studio', 'laptop'])
      await expect
        .poll(
          async () => {
            const r = await runCli(['models', '--target', name, '--duplicates', '--json'], env)
            return r.code === 0 ? (JSON.parse(r.out) as { unhashed: number }).unhashed : r.out
          },
          { timeout: 60_000 }
        )
        .toBe(0)

    await page.goto(serve.pageUrl)
    await expect(page.getByTestId('targets').getByText('studio', { exact: true })).toBeVisible()
    // `/` opens the library of the first target with its search box focused.
    await page.keyboard.press('/')
    const search = page.getByTestId('installed-search')
    await expect(search).toBeFocused()
    await expect(page.getByTestId('models-target').locator('option:checked')).toHaveText('studio')
    await expect(page.getByTestId('installed-row')).toHaveCount(3)
    const toggle = page.getByTestId('show-duplicates')
    await expect(toggle).toHaveText('Duplicates (1)')
    await expect(page.getByTestId('hash-state').filter({ hasText: 'duplicate' })).toHaveCount(2)

    // Tab along the bar to "Duplicates" and open it.
    await page.keyboard.press('Tab') // "Only files stored twice"
    await page.keyboard.press('Tab')
    await expect(toggle).toBeFocused()
    await page.keyboard.press('Enter')
    await expect(toggle).toHaveAttribute('aria-expanded', 'true')
    const dup = page.getByTestId('duplicates')
    const group = dup.getByTestId('dup-group')
    await expect(group).toHaveCount(1)
    await expect(group).toContainText(`2 copies of`)
    await expect(group).toContainText(sha.slice(0, 10).toUpperCase())
    await expect(group.getByRole('radio')).toHaveCount(2)
    expect(await seriousA11yFindings(page, '[data-testid="duplicates"]')).toEqual([])

    // The arrow keys move the tick to the other copy; Tab leaves the group for the button.
    const ticked = group.getByRole('radio', { checked: true })
    const first = await ticked.getAttribute('value')
    await ticked.focus()
    await page.keyboard.press('ArrowDown')
    const kept = (await group.getByRole('radio', { checked: true }).getAttribute('value'))!
    expect(kept).not.toBe(first)
    expect(kept).toBeTruthy()
    await page.keyboard.press('Tab')
    await expect(group.getByTestId('dup-keep-one')).toBeFocused()
    await page.keyboard.press('Enter')

    const pending = dup.getByTestId('dup-pending')
    await expect(pending).toContainText(`Kept checkpoints/${kept.split('/').pop()}`)
    await expect(pending).toContainText('The old copies wait until you confirm.')
    const other = [
      join(studio, 'models/checkpoints/flux-mini.safetensors'),
      join(studio, 'models/checkpoints/flux-mini-copy.safetensors')
    ].find((p) => p !== kept)!
    // One file with two names now, the bytes unchanged.
    expect(statSync(other).ino).toBe(statSync(kept).ino)
    expect(readFileSync(other).equals(model)).toBe(true)

    const confirm = pending.getByRole('button', { name: /^Confirm · free / })
    await confirm.focus()
    await page.keyboard.press('Enter')
    await expect(dup.getByTestId('dup-info')).toHaveText(/^Confirmed: .+ given back\.$/)
    await expect(dup.getByTestId('dup-none')).toBeVisible()
    await expect(pending).toHaveCount(0)
    expect(statSync(kept).nlink).toBe(2)
    expect(statSync(other).ino).toBe(statSync(kept).ino)
    await expect(toggle).toHaveText('Duplicates')
    await expect(page.getByTestId('installed-row')).toHaveCount(2)

    // Find by sha256: typed into the same search box, looked up on every target and Civitai.
    await page.keyboard.press('/')
    await expect(search).toBeFocused()
    await page.keyboard.type(sha)
    const lookup = page.getByTestId('hash-lookup')
    const go = lookup.getByTestId('hash-lookup-go')
    await go.focus()
    await page.keyboard.press('Enter')
    const result = lookup.getByTestId('hash-lookup-result')
    // The library lists a file once however many names it has (disk use counts it once).
    await expect(result.getByRole('listitem').filter({ hasText: 'studio' })).toHaveText(
      /^studio: checkpoints\/flux-mini(-copy)?\.safetensors$/
    )
    await expect(result.getByRole('listitem').filter({ hasText: 'laptop' })).toHaveText(
      'laptop: diffusion_models/flux-mini.safetensors'
    )
    const civitai = lookup.getByTestId('hash-lookup-civitai').getByRole('link')
    await expect(civitai).toHaveText('Flux Mini · v2.0')
    await expect(civitai).toHaveAttribute('href', /\/models\/900\b.*modelVersionId=901/)
    expect(await seriousA11yFindings(page, '[data-testid="hash-lookup"]')).toEqual([])

    // The other target's library, and Civitai's short AutoV2 form of the same hash.
    await page.getByTestId('models-target').selectOption({ label: 'laptop' })
    await expect(page.getByTestId('installed-row')).toHaveCount(1)
    await expect(page.getByTestId('installed-row')).toContainText('flux-mini.safetensors')
    await search.fill('')
    await search.focus()
    await page.keyboard.type(sha.slice(0, 10).toUpperCase())
    await go.focus()
    await page.keyboard.press('Enter')
    await expect(result.getByRole('listitem').filter({ hasText: 'laptop' })).toHaveText(
      'laptop: diffusion_models/flux-mini.safetensors'
    )
    await expect(civitai).toHaveText('Flux Mini · v2.0')
  } finally {
    await serve.stop()
    await hub.close()
    await cdn.close()
  }
})
