// The whole dashboard wired to a fake bridge: the containers find each other's
// data through the stores, and settings never show a token's value.
import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import App from '../../src/renderer/App.vue'
import { fakeBridge, record, snapshot } from './fixtures'
import { mountWith } from './mountApp'

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

describe('dashboard', () => {
  it('shows targets and downloads from one snapshot, with overall progress', async () => {
    const fake = fakeBridge(
      snapshot({
        downloads: [
          record({ id: 'a', fileSize: 1000, downloaded: 250, speed: 2_000_000 }),
          record({ id: 'b', fileSize: 3000, downloaded: 750, speed: 1_000_000 })
        ]
      })
    )
    w = await mountWith(App, fake)
    expect(w.get('[data-testid="targets"]').text()).toContain('studio')
    expect(w.findAll('[data-state="downloading"]')).toHaveLength(2)
    expect(w.get('.topbar').text()).toContain('2 active · 25% · 3.0 MB/s')
    expect(document.title).toBe('PodPull — 2 downloading · 25%')
  })

  it('settings show whether tokens are set, and in headless mode where to set them', async () => {
    const fake = fakeBridge(snapshot({ tokens: { hf: true, civitai: false, editable: false } }))
    w = await mountWith(App, fake)
    await w.get('[data-testid="view-tab-settings"]').trigger('click')
    const hf = w.get('[data-testid="token-hf"]')
    expect(hf.get('.badge').text()).toBe('set')
    expect(hf.text()).toContain('HF_TOKEN')
    expect(hf.find('input').exists()).toBe(false)
    expect(w.get('[data-testid="token-civitai"] .badge').text()).toBe('not set')
  })

  it('tokens can be set from the UI when main allows it; the field is emptied after', async () => {
    const fake = fakeBridge(snapshot({ tokens: { hf: false, civitai: false, editable: true } }))
    fake.answer('setToken', () => ({ hf: true, civitai: false, editable: true }))
    fake.answer('setSettings', (a) => ({ ...snapshot().settings, ...(a as object) }))
    w = await mountWith(App, fake)
    await w.get('[data-testid="view-tab-settings"]').trigger('click')
    const hf = w.get('[data-testid="token-hf"]')
    expect(hf.get('.badge').text()).toBe('not set')
    await hf.get('input').setValue('hf_secret')
    await hf.trigger('submit')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'setToken')?.a).toEqual({
      kind: 'hf',
      value: 'hf_secret'
    })
    expect((hf.get('input').element as HTMLInputElement).value).toBe('')
    expect(hf.get('.badge').text()).toBe('set')
    expect(w.html()).not.toContain('hf_secret')

    await w.get('[data-testid="setting-concurrency"]').setValue('5')
    await w.get('[data-testid="setting-concurrency"]').trigger('change')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'setSettings')?.a).toEqual({ concurrency: 5 })
  })
})
