// "Apply set…" on the dashboard (real Chromium, real `podpull serve`): a set
// pasted into the Sets view is checked against two targets (one already has a
// file of it), applied to both at once, each target's progress shown side by
// side, and one summary says what was fetched and skipped; the files land
// with the set's sha256.
import { expect, test } from '@playwright/test'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { contentOf } from '../harness/content'
import { startModelServer } from '../harness/modelServer'
import { runCli, startCli, startServe } from './serveProcess'

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex')

function comfyAt(base: string, name: string): string {
  const comfy = join(base, name, 'ComfyUI')
  mkdirSync(join(comfy, 'models', 'loras'), { recursive: true })
  return comfy
}

/** A model server with a LoRA and a VAE, and two local targets ("studio",
 *  and "laptop" that already has the LoRA) in their own PODPULL_HOME. */
async function twoTargets(tag: string) {
  const cdn = await startModelServer()
  const lora = cdn.addFile(`/set/${tag}-lora.safetensors`, { size: 2 << 20, seed: `${tag}-lora` })
  const vae = cdn.addFile(`/set/${tag}-vae.safetensors`, { size: 1 << 20, seed: `${tag}-vae` })
  const base = mkdtempSync(join(tmpdir(), `podpull-${tag}-`))
  const home = join(base, 'home')
  mkdirSync(home)
  const env = { PODPULL_HOME: home }
  const studio = comfyAt(base, 'studio')
  const laptop = comfyAt(base, 'laptop')
  writeFileSync(
    join(laptop, 'models', 'loras', `${tag}-lora.safetensors`),
    contentOf(lora.size, `${tag}-lora`)
  )
  for (const [n, c] of [
    ['studio', studio],
    ['laptop', laptop]
  ] as const) {
    const add = await runCli(['targets', 'add-local', n, '--comfyui', c], env)
    expect(add.code, add.out).toBe(0)
  }
  const set = {
    format: 'podpull-model-set',
    version: 1,
    name: `${tag} kit`,
    models: [
      {
        source: { kind: 'url', url: lora.url },
        folder: 'loras',
        name: `${tag}-lora.safetensors`,
        sha256: lora.sha256
      },
      { source: { kind: 'url', url: vae.url }, folder: 'vae', name: `${tag}-vae.safetensors` }
    ]
  }
  return { cdn, lora, vae, base, env, studio, laptop, set }
}

test('a pasted set is checked on two targets, applied to both at once, and summed up', async ({
  page
}) => {
  const { cdn, lora, vae, env, studio, laptop, set } = await twoTargets('e2e')
  const serve = await startServe(env)
  try {
    await page.goto(serve.pageUrl)
    await page.getByTestId('view-tab-sets').click()
    await page.getByText('…or paste its JSON').click()
    await page.getByTestId('set-paste').fill(JSON.stringify(set, null, 2))
    await page.getByTestId('set-paste-load').click()
    await expect(page.getByTestId('set-name')).toContainText('e2e kit — 2 models')
    await page.getByTestId('set-target-studio').check()
    await page.getByTestId('set-target-laptop').check()
    await page.getByTestId('set-plan').click()
    await expect(page.getByTestId('set-part-studio')).toContainText('lacks 2, has 0')
    await expect(page.getByTestId('set-part-laptop')).toContainText('lacks 1, has 1')

    await page.getByTestId('set-apply').click()
    const summary = page.getByTestId('set-summary')
    await expect(summary).toBeVisible({ timeout: 60_000 })
    await expect(page.getByTestId('set-summary-studio')).toContainText(
      'complete — fetched 2, skipped 0 (present), failed 0'
    )
    await expect(page.getByTestId('set-summary-laptop')).toContainText(
      'complete — fetched 1, skipped 1 (present), failed 0'
    )
    await expect(page.getByTestId('set-part-studio').getByRole('progressbar')).toHaveAttribute(
      'aria-valuenow',
      '100'
    )
    for (const c of [studio, laptop]) {
      expect(sha(join(c, 'models', 'loras', 'e2e-lora.safetensors'))).toBe(lora.sha256)
      expect(sha(join(c, 'models', 'vae', 'e2e-vae.safetensors'))).toBe(vae.sha256)
    }
  } finally {
    await serve.stop()
    await cdn.close()
  }
})

test('a set applied by `podpull sets apply` in a terminal shows on every target, also after a restart', async ({
  page
}) => {
  test.setTimeout(240_000) // two serve starts and a CLI run on a loaded machine
  const { cdn, lora, vae, base, env, studio, laptop, set } = await twoTargets('fleet')
  // Both bodies stop half-way until the test opens the gates.
  for (const f of [lora, vae]) cdn.setFaults(f.path, { holdAt: f.size / 2 })
  const setFile = join(base, 'fleet.podpull.json')
  writeFileSync(setFile, JSON.stringify(set))
  const serve = await startServe(env)
  // Another terminal: the dashboard did not start this run.
  const cli = startCli(['sets', 'apply', setFile, '--target', 'studio', '--target', 'laptop'], env)
  try {
    await cli.said('[studio] fetching 2 of 2')
    await page.goto(serve.pageUrl)
    await page.getByTestId('view-tab-sets').click()
    const listed = page.getByTestId('set-applied-fleet kit')
    await expect(listed).toContainText('2 models on studio, laptop')
    await listed.getByRole('button', { name: 'Show' }).click()
    const studioCard = page.getByTestId('set-part-studio')
    await expect(studioCard.getByTestId('set-entry-0')).toHaveAttribute('data-state', 'running')
    await expect(page.getByTestId('set-part-laptop').getByTestId('set-part-state')).toContainText(
      'has 1 of 2'
    )

    for (const f of [lora, vae]) cdn.setFaults(f.path, { holdAt: undefined })
    await expect(studioCard.getByTestId('set-part-state')).toContainText('has 2 of 2', {
      timeout: 60_000
    })
    await expect(page.getByTestId('set-part-laptop').getByTestId('set-part-state')).toContainText(
      'has 2 of 2',
      { timeout: 60_000 }
    )
    await expect(studioCard.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100')
    const end = await cli.done
    expect(end.code, end.out).toBe(0)

    // After a restart the set is still listed, with its state on both targets.
    await serve.restart()
    await page.goto(serve.pageUrl)
    await page.getByTestId('view-tab-sets').click()
    await page.getByTestId('set-applied-fleet kit').getByRole('button', { name: 'Show' }).click()
    for (const n of ['studio', 'laptop'])
      await expect(page.getByTestId(`set-part-${n}`).getByTestId('set-part-state')).toContainText(
        'has 2 of 2'
      )
    expect(sha(join(studio, 'models', 'loras', 'fleet-lora.safetensors'))).toBe(lora.sha256)
    expect(sha(join(laptop, 'models', 'vae', 'fleet-vae.safetensors'))).toBe(vae.sha256)
  } finally {
    cli.kill()
    await serve.stop()
    await cdn.close()
  }
})

test('a set’s own file ("local" entry) is sent from this computer to a pod when the set is applied', async ({
  page
}) => {
  test.setTimeout(180_000) // a real sshd and the helper's first upload on a loaded machine
  const { startSshd } = await import('../harness/sshd')
  const sshd = await startSshd()
  const base = mkdtempSync(join(tmpdir(), 'podpull-e2e-send-'))
  const home = join(base, 'home')
  mkdirSync(home)
  const env = { PODPULL_HOME: home }
  const studio = comfyAt(base, 'studio')
  const mine = contentOf(700_000, 'e2e-home-trained')
  writeFileSync(join(studio, 'models', 'loras', 'mine.safetensors'), mine)
  const ws = join(base, 'pod-ws')
  mkdirSync(join(ws, 'ComfyUI', 'models', 'loras'), { recursive: true })
  for (const args of [
    ['targets', 'add-local', 'studio', '--comfyui', studio],
    [
      ...['targets', 'add-ssh', 'pod1', '--host', '127.0.0.1', '--port', String(sshd.port)],
      ...['--user', sshd.user, '--key', sshd.keyPath, '--workspace', ws, '--accept-new-host-key']
    ]
  ]) {
    const r = await runCli(args, env)
    expect(r.code, r.out).toBe(0)
  }
  const mineSha = createHash('sha256').update(mine).digest('hex')
  const set = {
    format: 'podpull-model-set',
    version: 1,
    name: 'home loras',
    models: [
      { source: { kind: 'local' }, folder: 'loras', name: 'mine.safetensors', sha256: mineSha }
    ]
  }
  const serve = await startServe(env)
  try {
    await page.goto(serve.pageUrl)
    await page.getByTestId('view-tab-sets').click()
    await page.getByText('…or paste its JSON').click()
    await page.getByTestId('set-paste').fill(JSON.stringify(set))
    await page.getByTestId('set-paste-load').click()
    await page.getByTestId('set-target-pod1').check()
    await page.getByTestId('set-plan').click()
    const card = page.getByTestId('set-part-pod1')
    await expect(card).toContainText('lacks 1, has 0, 1 of them your own file(s) to send', {
      timeout: 60_000
    })
    await page.getByTestId('set-apply').click()
    await expect(page.getByTestId('set-summary-pod1')).toContainText(
      'complete — fetched 1, skipped 0 (present), failed 0',
      { timeout: 90_000 }
    )
    await expect(card.getByTestId('set-entry-0')).toHaveAttribute('data-state', 'completed')
    await expect(card.getByTestId('set-entry-0')).toContainText('sent from this computer')
    expect(sha(join(ws, 'ComfyUI', 'models', 'loras', 'mine.safetensors'))).toBe(mineSha)
    // The downloads list has it as the pod's upload row (finished rows sit folded away).
    await page.getByTestId('view-tab-downloads').click()
    await expect(page.getByTestId('upload-mark')).toHaveCount(1)
  } finally {
    await serve.stop()
    await sshd.stop()
  }
})
