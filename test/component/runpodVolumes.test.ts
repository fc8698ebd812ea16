// Network volumes in the dashboard: the RunPod section lists them with
// datacenter, size and used space (or says it is unknown) and adds one as a target; a volume target's card says
// which pod it works through, and "Fill…" starts a CPU pod only after the
// user confirmed what it costs; the fill pod's time and cost show on the card.
import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import App from '../../src/renderer/App.vue'
import type { FillPlan, RunpodVolume } from '../../src/shared/runpod'
import type { TargetInfo } from '../../src/shared/types'
import { apiError, fakeBridge, snapshot, target } from './fixtures'
import { mountWith } from './mountApp'

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

const vol = (over: Partial<RunpodVolume> = {}): RunpodVolume => ({
  id: 'vol1',
  name: 'models',
  sizeGb: 100,
  dataCenterId: 'EU-RO-1',
  ...over
})
const volumeTarget = (over: Partial<TargetInfo> = {}): TargetInfo =>
  target({
    id: 'v1',
    name: 'models',
    connection: 'offline',
    config: {
      kind: 'ssh',
      host: 'runpod-volume',
      port: 22,
      user: 'root',
      workspace: '/workspace',
      runpodVolume: { id: 'vol1', name: 'models', dataCenterId: 'EU-RO-1' }
    },
    fillPod: null,
    ...over
  })
const plan: FillPlan = {
  volumeId: 'vol1',
  volumeName: 'models',
  dataCenterId: 'EU-RO-1',
  cpuFlavorId: 'cpu3c',
  costPerHr: 0.06,
  priceEstimated: true,
  pricesAsOf: '2026-12',
  summary:
    'starts a CPU pod in EU-RO-1 with the volume "models", ≈ $0.06/h; removed when the downloads finish'
}

describe('network volumes in the RunPod section', () => {
  it('lists the volumes with datacenter and size, and adds one as a target with a key file', async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    const listed = Date.now() - 5 * 60_000
    fake.answer('runpodVolumes', () => [
      vol({ usage: { usedBytes: 12_300_000_000, files: 3, at: listed, podId: 'cpu7' } }),
      vol({ id: 'vol2', name: 'us', dataCenterId: 'US-KS-2', sizeGb: 20, usage: null })
    ])
    fake.answer('runpodAddVolume', () => volumeTarget())
    w = await mountWith(App, fake)
    expect(fake.calls.some((c) => c.m === 'runpodVolumes')).toBe(false)
    await w.get('[data-testid="volumes-refresh"]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid="volume-vol1"] [data-testid="volume-meta"]').text()).toBe(
      'EU-RO-1 · 100 GB'
    )
    expect(w.get('[data-testid="volume-vol2"]').text()).toContain('US-KS-2 · 20 GB')
    // RunPod gives only the size: the used space is PodPull's last listing, with its time.
    const used = w.get('[data-testid="volume-vol1"] [data-testid="volume-used"]')
    expect(used.text()).toBe('models use 12.3 GB of 100 GB, as of 5 min ago')
    expect(used.attributes('title')).toBe('Listed through pod cpu7: 3 model files')
    expect(w.get('[data-testid="volume-vol2"] [data-testid="volume-used"]').text()).toBe(
      'used space unknown: no pod with this volume has been listed yet'
    )

    const row = w.get('[data-testid="volume-vol1"]')
    await row.get('[data-testid="volume-add"]').trigger('click')
    await row.get('[data-testid="volume-key"]').setValue('/home/u/.ssh/id_ed25519')
    await row.get('[data-testid="volume-add"]').trigger('click')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'runpodAddVolume')?.a).toEqual({
      volume: 'vol1',
      keyPath: '/home/u/.ssh/id_ed25519'
    })
    fake.emit('targetsChanged', [volumeTarget()])
    await flushPromises()
    expect(w.get('[data-testid="volume-vol1"] [data-testid="volume-target"]').text()).toBe(
      'target "models"'
    )
  })

  it("shows main's sentence when the volumes cannot be listed", async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    fake.answer('runpodVolumes', () => {
      throw apiError('runpod-key', 'RunPod refused the API key: check RUNPOD_API_KEY.')
    })
    w = await mountWith(App, fake)
    await w.get('[data-testid="volumes-refresh"]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid="volumes-error"]').text()).toBe(
      'RunPod refused the API key: check RUNPOD_API_KEY.'
    )
  })
})

describe("a volume target's card", () => {
  it('starts a fill pod only after its cost is confirmed, then shows its time and cost', async () => {
    const fake = fakeBridge(snapshot({ targets: [volumeTarget()] }))
    const started = Date.now() - 30 * 60_000
    fake.answer('runpodFill', (a) =>
      a.accept
        ? {
            plan,
            pod: {
              podId: 'cpu1',
              ours: true,
              status: 'RUNNING',
              startedAt: started,
              costPerHr: 0.06
            }
          }
        : { plan, pod: null }
    )
    w = await mountWith(App, fake)
    expect(w.get('[data-testid="fill-none"]').text()).toBe('No pod has this volume mounted.')

    await w.get('[data-testid="fill-ask"]').trigger('click')
    await flushPromises()
    expect(fake.calls.filter((c) => c.m === 'runpodFill').map((c) => c.a)).toEqual([
      { targetId: 'v1', accept: false }
    ])
    expect(w.get('[data-testid="confirm-dialog"]').text()).toContain(
      'PodPull starts a CPU pod in EU-RO-1 with the volume "models", ≈ $0.06/h; removed when the downloads finish.'
    )
    // Keep: nothing is created.
    await w
      .get('[data-testid="confirm-dialog"]')
      .findAll('button')
      .find((b) => b.text() === 'Keep')!
      .trigger('click')
    await flushPromises()
    expect(fake.calls.filter((c) => c.m === 'runpodFill')).toHaveLength(1)

    await w.get('[data-testid="fill-ask"]').trigger('click')
    await flushPromises()
    await w.get('[data-testid="confirm"]').trigger('click')
    await flushPromises()
    expect(fake.calls.filter((c) => c.m === 'runpodFill').at(-1)?.a).toEqual({
      targetId: 'v1',
      accept: true
    })
    fake.emit('targetsChanged', [
      volumeTarget({
        connection: 'online',
        fillPod: {
          podId: 'cpu1',
          ours: true,
          status: 'RUNNING',
          startedAt: started,
          costPerHr: 0.06
        }
      })
    ])
    await flushPromises()
    const line = w.get('[data-testid="fill-pod"]').text().replace(/\s+/g, ' ')
    expect(line).toMatch(/CPU fill pod cpu1: RUNNING · 3\d min · ≈ \$0\.03 so far/)
    expect(line).toContain('removed when the downloads finish')
    expect(w.find('[data-testid="fill-remove"]').exists()).toBe(true)
  })

  it("says the user's own pod is used and offers no removal", async () => {
    const fake = fakeBridge(
      snapshot({
        targets: [
          volumeTarget({
            connection: 'online',
            fillPod: {
              podId: 'gpu9',
              ours: false,
              status: 'RUNNING',
              startedAt: null,
              costPerHr: 0.69
            }
          })
        ]
      })
    )
    w = await mountWith(App, fake)
    expect(w.get('[data-testid="fill-pod"]').text()).toBe(
      'Mounted on your pod gpu9 (PodPull never removes it)'
    )
    expect(w.find('[data-testid="fill-remove"]').exists()).toBe(false)
    expect(w.find('[data-testid="fill-ask"]').exists()).toBe(false)
  })

  it('shows a refused creation as the one sentence main sent', async () => {
    const fake = fakeBridge(snapshot({ targets: [volumeTarget()] }))
    fake.answer('runpodFill', (a) => {
      if (!a.accept) return { plan, pod: null }
      throw apiError(
        'runpod-refused',
        'RunPod did not create the fill pod (no instances): raise the price cap (--max-price) or try another datacenter’s volume.'
      )
    })
    w = await mountWith(App, fake)
    await w.get('[data-testid="fill-ask"]').trigger('click')
    await flushPromises()
    await w.get('[data-testid="confirm"]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid="fill-error"]').text()).toMatch(
      /^RunPod did not create the fill pod/
    )
  })
})
