// The About section of the Settings dialog: the versions main reports, and a
// plain statement when a part is absent or the call fails.
import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import App from '../../src/renderer/App.vue'
import type { AboutInfo } from '../../src/shared/api'
import { apiError, fakeBridge, type Answer } from './fixtures'
import { mountWith } from './mountApp'

const ABOUT: AboutInfo = {
  app: '0.1.0',
  electron: '45.4.1',
  node: '22.20.0',
  chromium: '142.0.7444.59',
  helper: '1.4.0',
  settingsFile: '/home/ana/.config/PodPull/config.json',
  logsDir: '/home/ana/.config/PodPull/logs'
}

let w: VueWrapper | undefined
afterEach(() => {
  w?.unmount()
  w = undefined
})

async function openSettings(about: Answer<'getAbout'>): Promise<VueWrapper> {
  const fake = fakeBridge()
  fake.answer('getAbout', about)
  w = await mountWith(App, fake)
  await w.get('[data-testid="view-tab-settings"]').trigger('click')
  await flushPromises()
  return w
}

describe('About', () => {
  it('shows app, Electron, Node, Chromium and helper versions and where settings and logs live', async () => {
    const w = await openSettings(() => ABOUT)
    const about = w.get('[data-testid="about"]')
    expect(about.get('[data-testid="about-podpull"]').text()).toBe('0.1.0')
    expect(about.get('[data-testid="about-electron"]').text()).toBe('45.4.1')
    expect(about.get('[data-testid="about-node"]').text()).toBe('22.20.0')
    expect(about.get('[data-testid="about-chromium"]').text()).toBe('142.0.7444.59')
    expect(about.get('[data-testid="about-pod-helper"]').text()).toBe('1.4.0')
    expect(about.get('[data-testid="about-settings"]').text()).toBe(ABOUT.settingsFile)
    expect(about.get('[data-testid="about-logs"]').text()).toBe(ABOUT.logsDir)
  })

  it('says which parts are absent under podpull serve', async () => {
    const w = await openSettings(() => ({ ...ABOUT, electron: null, chromium: null, helper: null }))
    expect(w.get('[data-testid="about-electron"]').text()).toBe('not running in Electron')
    expect(w.get('[data-testid="about-pod-helper"]').text()).toBe('missing from this installation')
  })

  it('a failed call is said plainly and the rest of Settings still works', async () => {
    const w = await openSettings(() => {
      throw apiError('internal', 'boom')
    })
    expect(w.get('[data-testid="about"]').text()).toContain('Could not read the versions: boom')
    expect(w.find('[data-testid="token-hf"]').exists()).toBe(true)
  })
})
