// One view at a time behind an ARIA tablist, the targets column always shown,
// and the keys: arrows between tabs, Ctrl/Cmd+L to the link box, `/` to search.
import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import App from '../../src/renderer/App.vue'
import { windowTitle } from '../../src/renderer/windowTitle'
import { fakeBridge, snapshot } from './fixtures'
import { mountWith } from './mountApp'

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

const visible = (id: string): boolean =>
  (w!.get(`[data-testid="view-${id}"]`).element as HTMLElement).style.display !== 'none'

function press(key: string, init: KeyboardEventInit = {}, on: EventTarget = window): void {
  on.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init }))
}

async function app(): Promise<VueWrapper> {
  const fake = fakeBridge(snapshot())
  fake.answer('listInstalled', () => ({ models: [], partials: [], extraRoots: [], warning: null }))
  w = await mountWith(App, fake)
  return w
}

describe('views', () => {
  it('shows one view at a time, wired as tabs and panels; targets stay in view', async () => {
    const v = await app()
    const tabs = v.findAll('.view-tabs [role="tab"]')
    expect(tabs.map((t) => t.text())).toEqual(['Downloads', 'Models', 'Sets', 'RunPod', 'Settings'])
    expect(v.get('.view-tabs').attributes('role')).toBe('tablist')
    expect(visible('downloads')).toBe(true)
    expect(visible('models')).toBe(false)

    await v.get('[data-testid="view-tab-runpod"]').trigger('click')
    expect(visible('runpod')).toBe(true)
    expect(visible('downloads')).toBe(false)
    expect(v.get('[data-testid="view-tab-runpod"]').attributes('aria-selected')).toBe('true')
    expect(v.get('[data-testid="view-tab-downloads"]').attributes('aria-selected')).toBe('false')
    const panel = v.get('#view-runpod')
    expect(panel.attributes('role')).toBe('tabpanel')
    expect(panel.attributes('aria-labelledby')).toBe('view-tab-runpod')
    expect(v.get('[data-testid="view-tab-runpod"]').attributes('aria-controls')).toBe('view-runpod')
    expect(v.findAll('[data-testid="runpod"]')).toHaveLength(1)
    expect((v.get('[data-testid="targets"]').element as HTMLElement).style.display).toBe('')
    expect(v.get('[data-testid="targets"]').text()).toContain('studio')

    await v.get('[data-testid="view-tab-sets"]').trigger('click')
    expect(v.get('[data-testid="sets-view"]').text()).toContain('podpull sets')
  })

  it('arrow keys, Home and End move between tabs; only the chosen tab is in the Tab order', async () => {
    const v = await app()
    const first = v.get('[data-testid="view-tab-downloads"]')
    ;(first.element as HTMLElement).focus()
    await first.trigger('keydown', { key: 'ArrowRight' })
    expect(visible('models')).toBe(true)
    expect(document.activeElement?.getAttribute('data-testid')).toBe('view-tab-models')
    expect(v.get('[data-testid="view-tab-models"]').attributes('tabindex')).toBe('0')
    expect(first.attributes('tabindex')).toBe('-1')
    await first.trigger('keydown', { key: 'ArrowLeft' })
    expect(visible('settings')).toBe(true)
    await first.trigger('keydown', { key: 'Home' })
    expect(visible('downloads')).toBe(true)
    await first.trigger('keydown', { key: 'End' })
    expect(visible('settings')).toBe(true)
  })

  it('Ctrl+L focuses the link box from any view; / opens model search but types in a field', async () => {
    const v = await app()
    await v.get('[data-testid="view-tab-settings"]').trigger('click')
    press('l', { ctrlKey: true })
    await flushPromises()
    expect(visible('downloads')).toBe(true)
    expect(document.activeElement?.getAttribute('data-testid')).toBe('url-input')

    // While typing, `/` is a character, not a shortcut.
    press('/', {}, document.activeElement!)
    await flushPromises()
    expect(visible('downloads')).toBe(true)

    ;(document.activeElement as HTMLElement).blur()
    press('/', {}, document.body)
    await flushPromises()
    expect(visible('models')).toBe(true)
    expect(document.activeElement?.getAttribute('data-testid')).toBe('installed-search')

    press('l', { metaKey: true }, document.body)
    await flushPromises()
    expect(document.activeElement?.getAttribute('data-testid')).toBe('url-input')
  })

  it('Escape closes an open dialog, and shortcuts wait while one is open', async () => {
    const v = await app()
    await v.get('[data-testid="add-target"]').trigger('click')
    expect(v.find('[role="dialog"]').exists()).toBe(true)
    press('/', {}, document.body)
    await flushPromises()
    expect(visible('downloads')).toBe(true)
    press('Escape')
    await flushPromises()
    expect(v.find('[role="dialog"]').exists()).toBe(false)
  })

  it('the window title says what is running', () => {
    expect(windowTitle({}, 0)).toBe('PodPull')
    expect(windowTitle({ downloading: 2, queued: 1 }, 41.7)).toBe(
      'PodPull — 2 downloading · 1 queued · 41%'
    )
    expect(windowTitle({ queued: 3 }, 0)).toBe('PodPull — 3 queued')
  })
})
