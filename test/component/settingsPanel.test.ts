// Settings → "Save diagnostics": one call to main, the button held while it
// runs (a second click does not start a second archive), the saved path shown,
// and main's refusal shown as its one line. Also: the fake bridge is typed by
// the contract, so a wrong answer shape does not compile.
import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import SettingsPanel from '../../src/renderer/components/SettingsPanel.vue'
import { apiError, fakeBridge } from './fixtures'
import { mountWith } from './mountApp'

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

describe('Settings: diagnostics', () => {
  it('saves one archive and shows where it went', async () => {
    const fake = fakeBridge()
    let release: (v: { path: string }) => void = () => undefined
    fake.answer('saveDiagnostics', () => new Promise((res) => (release = res)))
    w = await mountWith(SettingsPanel, fake)
    const button = w.get('[data-testid="save-diagnostics"]')
    await button.trigger('click')
    await flushPromises()
    expect(button.attributes('disabled')).toBeDefined()
    expect(button.text()).toBe('Saving…')
    await button.trigger('click')
    release({ path: '/home/u/.config/PodPull/diagnostics/podpull-diagnostics-1.tar.gz' })
    await flushPromises()
    expect(fake.calls.filter((c) => c.m === 'saveDiagnostics')).toHaveLength(1)
    expect(w.get('[data-testid="diagnostics-saved"]').text()).toContain(
      '/home/u/.config/PodPull/diagnostics/podpull-diagnostics-1.tar.gz'
    )
    expect(button.attributes('disabled')).toBeUndefined()
  })

  it("shows main's message when it cannot write the archive", async () => {
    const fake = fakeBridge()
    fake.answer('saveDiagnostics', () => {
      throw apiError('unwritable', 'Cannot write /home/u/.config/PodPull/diagnostics.')
    })
    w = await mountWith(SettingsPanel, fake)
    await w.get('[data-testid="save-diagnostics"]').trigger('click')
    await flushPromises()
    expect(w.get('[role="alert"]').text()).toBe('Cannot write /home/u/.config/PodPull/diagnostics.')
    expect(w.find('[data-testid="diagnostics-saved"]').exists()).toBe(false)
  })

  it('types answers by the contract', () => {
    const fake = fakeBridge()
    // @ts-expect-error clearCompleted answers { removed: number }
    fake.answer('clearCompleted', () => ({ removed: 'all' }))
    // @ts-expect-error there is no such method
    fake.answer('deleteEverything', () => undefined)
    expect(fake.calls).toEqual([])
  })
})
