import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import App from '../../src/renderer/App.vue'
import type { RunpodPod } from '../../src/shared/runpod'
import { apiError, fakeBridge, snapshot } from './fixtures'
import { mountWith } from './mountApp'

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

const pod = (over: Partial<RunpodPod> = {}): RunpodPod => ({
  id: 'abc123',
  name: 'flux-box',
  status: 'RUNNING',
  gpu: 'RTX 4090',
  gpuCount: 1,
  costPerHr: 0.69,
  lastStartedAt: null,
  ssh: { via: 'direct', host: '203.0.113.7', port: 40122, user: 'root' },
  ...over
})

describe('the sidebar RunPod section', () => {
  it('lists the pods on request with status, GPU and cost, and stops / starts one', async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    fake.answer('runpodPods', () => [
      pod(),
      pod({ id: 'off1', name: 'idle', status: 'EXITED', gpuCount: 2, gpu: 'A40' })
    ])
    fake.answer('runpodStop', () => pod({ status: 'EXITED' }))
    w = await mountWith(App, fake)
    expect(fake.calls.some((c) => c.m === 'runpodPods')).toBe(false)

    await w.get('[data-testid="runpod-refresh"]').trigger('click')
    await flushPromises()
    const row = w.get('[data-testid="runpod-abc123"]')
    expect(row.text()).toContain('flux-box')
    expect(row.text()).toContain('RUNNING · RTX 4090 · $0.69/h')
    expect(w.get('[data-testid="runpod-off1"]').text()).toContain('EXITED · 2× A40')

    await row.get('[data-testid="runpod-stop"]').trigger('click')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'runpodStop')?.a).toEqual({ pod: 'abc123' })
    expect(w.get('[data-testid="runpod-abc123"] [data-testid="runpod-status"]').text()).toBe(
      'EXITED'
    )
    expect(
      w.get('[data-testid="runpod-abc123"]').find('[data-testid="runpod-start"]').exists()
    ).toBe(true)
  })

  it('shows the API sentence when the key is refused', async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    fake.answer('runpodPods', () => {
      throw apiError('runpod-key', 'RunPod refused the API key: check RUNPOD_API_KEY.')
    })
    w = await mountWith(App, fake)
    await w.get('[data-testid="runpod-refresh"]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid="runpod-error"]').text()).toBe(
      'RunPod refused the API key: check RUNPOD_API_KEY.'
    )
  })
})
