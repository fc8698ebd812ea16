// Without an OS keyring the dashboard says plainly what is remembered and
// what is not (tokens, SSH passphrases), and why; with one, it says nothing.
import { afterEach, describe, expect, it } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import App from '../../src/renderer/App.vue'
import { fakeBridge, snapshot } from './fixtures'
import { mountWith } from './mountApp'

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

async function open(s: Parameters<typeof snapshot>[0]): Promise<VueWrapper> {
  w = await mountWith(App, fakeBridge(snapshot(s)))
  await w.get('[data-testid="view-tab-settings"]').trigger('click')
  return w
}

async function passphraseLabel(v: VueWrapper): Promise<string> {
  await v.get('[data-testid="add-target"]').trigger('click')
  await v.get('input[type="radio"][value="ssh"]').setValue(true)
  return v.get('[data-testid="target-secret"]').element.parentElement!.textContent ?? ''
}

describe('what PodPull remembers', () => {
  it('desktop without a keyring: tokens and passphrases last until PodPull quits', async () => {
    const v = await open({
      host: 'electron',
      tokens: { hf: false, civitai: false, editable: true }
    })
    const note = v.get('[data-testid="keyring-note"]').text()
    expect(note).toContain('No OS keyring was found')
    expect(note).toContain('Secret Service')
    expect(note).toMatch(/Tokens you save here are used until PodPull quits, then forgotten/)
    expect(note).toMatch(/HF_TOKEN \/ CIVITAI_API_TOKEN in the environment PodPull starts from/)
    expect(note).toMatch(/SSH passphrases and passwords are also kept only until PodPull quits/)
    // The desktop app has no `podpull serve`, and PODPULL_SSH_SECRET is for the command line.
    expect(note).not.toContain('podpull serve')
    expect(note).not.toContain('PODPULL_SSH_SECRET')
    // Tokens can still be typed in for this session.
    expect(v.get('[data-testid="token-hf"]').find('input').exists()).toBe(true)
    await v.get('[data-testid="view-tab-downloads"]').trigger('click')
    expect(await passphraseLabel(v)).toContain('no OS keyring: kept until PodPull quits')
  })

  it('desktop with a keyring: secrets are stored encrypted, no warning', async () => {
    const v = await open({
      host: 'electron',
      tokens: { hf: true, civitai: false, editable: true, keyring: true }
    })
    expect(v.find('[data-testid="keyring-note"]').exists()).toBe(false)
    await v.get('[data-testid="view-tab-downloads"]').trigger('click')
    expect(await passphraseLabel(v)).toContain('optional, stored encrypted')
  })

  it('podpull serve: tokens from its environment, passphrases until it stops', async () => {
    const v = await open({
      host: 'headless',
      tokens: { hf: false, civitai: false, editable: false }
    })
    const note = v.get('[data-testid="keyring-note"]').text()
    expect(note).toContain('environment of podpull serve')
    expect(note).toContain('kept until it stops')
    expect(note).toContain('on the command line, PODPULL_SSH_SECRET')
    await v.get('[data-testid="view-tab-downloads"]').trigger('click')
    expect(await passphraseLabel(v)).toContain('kept until podpull serve stops')
  })
})
