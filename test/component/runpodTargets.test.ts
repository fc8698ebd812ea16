// RunPod in the dashboard beyond the pod list: importing a pod in one click
// (host key confirmed on first contact), a linked pod's card (start / stop,
// stop-when-done switch, "waiting" while downloads run, PodPull's notice when
// it stopped the pod) and the RunPod API key in Settings (set / not set only).
import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import App from '../../src/renderer/App.vue'
import SettingsPanel from '../../src/renderer/components/SettingsPanel.vue'
import type { RunpodPod } from '../../src/shared/runpod'
import type { TargetInfo } from '../../src/shared/types'
import { apiError, fakeBridge, record, snapshot, target } from './fixtures'
import { mountWith } from './mountApp'

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

const FP = 'SHA256:' + 'a'.repeat(43)
const pod = (over: Partial<RunpodPod> = {}): RunpodPod => ({
  id: 'abc123',
  name: 'flux-box',
  status: 'RUNNING',
  gpu: 'RTX 4090',
  gpuCount: 1,
  costPerHr: 0.69,
  lastStartedAt: null,
  ssh: { via: 'proxy', host: 'ssh.runpod.io', port: 22, user: 'abc123-64410f3a' },
  ...over
})
const linked = (over: Partial<TargetInfo> = {}, stopWhenDone = false): TargetInfo =>
  target({
    id: 'p1',
    name: 'flux-box',
    config: {
      kind: 'ssh',
      host: 'ssh.runpod.io',
      port: 22,
      user: 'abc123-64410f3a',
      workspace: '/workspace',
      runpodPodId: 'abc123',
      ...(stopWhenDone ? { stopWhenDone: true } : {})
    },
    ...over
  })

async function listPods(fake: ReturnType<typeof fakeBridge>): Promise<VueWrapper> {
  const v = await mountWith(App, fake)
  await v.get('[data-testid="runpod-refresh"]').trigger('click')
  await flushPromises()
  return v
}

describe('importing a RunPod pod', () => {
  it('asks to confirm the host key on first contact, then imports with it', async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    fake.answer('runpodPods', () => [pod()])
    fake.answer('runpodImport', (a) =>
      a.acceptHostKey
        ? { target: linked(), test: null, via: 'proxy' }
        : {
            target: null,
            test: {
              ok: true,
              message: 'first contact',
              fingerprint: FP,
              needsHostKeyConfirmation: true
            },
            via: 'proxy'
          }
    )
    w = await listPods(fake)
    await w.get('[data-testid="runpod-import"]').trigger('click')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'runpodImport')?.a).toEqual({ pod: 'abc123' })
    expect(w.get('[data-testid="runpod-fingerprint"]').text()).toBe(FP)

    // Not confirmed: refused here, nothing sent.
    await w.get('[data-testid="runpod-import-confirm"]').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="runpod-import-error"]').text()).toMatch(/Confirm the host key/)
    expect(fake.calls.filter((c) => c.m === 'runpodImport')).toHaveLength(1)

    await w.get('[data-testid="runpod-trust"]').setValue(true)
    await w.get('[data-testid="runpod-stop-when-done"]').setValue(true)
    await w.get('[data-testid="runpod-key"]').setValue('/home/u/.ssh/runpod')
    await w.get('[data-testid="runpod-import-form"]').trigger('submit')
    await flushPromises()
    expect(fake.calls.filter((c) => c.m === 'runpodImport').at(-1)?.a).toEqual({
      pod: 'abc123',
      keyPath: '/home/u/.ssh/runpod',
      stopWhenDone: true,
      acceptHostKey: FP
    })
    expect(w.get('[data-testid="runpod-import-info"]').text()).toBe(
      'Imported as "flux-box" via RunPod\'s SSH proxy.'
    )
    // Main sends the new list: the pod row now names its target instead.
    fake.emit('targetsChanged', [linked()])
    await flushPromises()
    expect(w.get('[data-testid="runpod-abc123"] [data-testid="runpod-imported"]').text()).toBe(
      'target "flux-box"'
    )
  })

  it('imports a pod whose key is already trusted in one click; a stopped pod cannot be imported', async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    fake.answer('runpodPods', () => [
      pod(),
      pod({ id: 'off1', name: 'idle', status: 'EXITED', ssh: null })
    ])
    fake.answer('runpodImport', () => ({ target: linked(), test: null, via: 'direct' }))
    w = await listPods(fake)
    expect(
      w.get('[data-testid="runpod-off1"] [data-testid="runpod-import"]').attributes('disabled')
    ).toBeDefined()
    await w.get('[data-testid="runpod-abc123"] [data-testid="runpod-import"]').trigger('click')
    await flushPromises()
    expect(fake.calls.filter((c) => c.m === 'runpodImport')).toHaveLength(1)
    expect(w.get('[data-testid="runpod-import-info"]').text()).toBe('Imported as "flux-box".')
    expect(w.find('[data-testid="runpod-import-form"]').exists()).toBe(false)
  })

  it("shows main's sentence when SSH refuses, and offers a key file to retry with", async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    fake.answer('runpodPods', () => [pod()])
    fake.answer('runpodImport', () => {
      throw apiError('unreachable', 'The pod refused the SSH key.')
    })
    w = await listPods(fake)
    await w.get('[data-testid="runpod-import"]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid="runpod-import-error"]').text()).toBe('The pod refused the SSH key.')
    expect(w.find('[data-testid="runpod-key"]').exists()).toBe(true)
  })
})

describe("a RunPod-linked pod's card", () => {
  it('stops and starts the pod, by the target', async () => {
    const fake = fakeBridge(snapshot({ targets: [linked()] }))
    fake.answer('runpodStop', () => pod({ status: 'EXITED' }))
    fake.answer('runpodStart', () => pod({ status: 'RUNNING' }))
    w = await mountWith(App, fake)
    const card = w.get('[data-testid="target-p1"]')
    await card.get('[data-testid="pod-stop"]').trigger('click')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'runpodStop')?.a).toEqual({ pod: 'p1' })
    expect(card.get('[data-testid="pod-info"]').text()).toBe('Stopping the pod (EXITED).')
    fake.emit('targetsChanged', [linked({ connection: 'offline' })])
    await flushPromises()
    await w.get('[data-testid="target-p1"] [data-testid="pod-start"]').trigger('click')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'runpodStart')?.a).toEqual({ pod: 'p1' })
  })

  it('switches stop-when-done, says the pod waits while downloads run, and shows the notice', async () => {
    const fake = fakeBridge(
      snapshot({
        targets: [linked(), target({ id: 't1', name: 'studio' })],
        downloads: [
          record({ id: 'a', targetId: 'p1' }),
          record({ id: 'b', targetId: 'p1', state: 'queued' }),
          record({ id: 'c', targetId: 'p1', state: 'completed' }),
          record({ id: 'd', targetId: 't1' })
        ]
      })
    )
    fake.answer('updateTarget', ({ patch }) => linked({}, patch.stopWhenDone === true))
    w = await mountWith(App, fake)
    // A local target has no RunPod controls.
    expect(
      w.get('[data-testid="target-t1"]').find('[data-testid="runpod-controls"]').exists()
    ).toBe(false)
    expect(w.find('[data-testid="stop-when-done-waiting"]').exists()).toBe(false)
    await w.get('[data-testid="stop-when-done"]').setValue(true)
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'updateTarget')?.a).toEqual({
      id: 'p1',
      patch: { stopWhenDone: true }
    })
    fake.emit('targetsChanged', [linked({}, true), target({ id: 't1', name: 'studio' })])
    await flushPromises()
    expect(w.get('[data-testid="stop-when-done-waiting"]').text()).toBe(
      'Waiting: 2 downloads still active; the pod stops once they all end.'
    )
    // PodPull stopped it: the card says so.
    fake.emit('targetsChanged', [
      linked(
        { connection: 'offline', notice: 'Stopped the pod "flux-box": its downloads finished.' },
        true
      )
    ])
    await flushPromises()
    expect(w.get('[data-testid="target-notice"]').text()).toBe(
      'Stopped the pod "flux-box": its downloads finished.'
    )
  })
})

describe('the RunPod API key in Settings', () => {
  it('shows set / not set, saves a new key once and never shows it back', async () => {
    const fake = fakeBridge(
      snapshot({ tokens: { hf: true, civitai: false, runpod: false, editable: true } })
    )
    fake.answer('setToken', () => ({ hf: true, civitai: false, runpod: true, editable: true }))
    w = await mountWith(SettingsPanel, fake)
    const row = w.get('[data-testid="token-runpod"]')
    expect(row.text()).toContain('RunPod API key')
    expect(row.get('.badge').text()).toBe('not set')
    await row.get('input').setValue('rpa_SECRET123')
    await row.trigger('submit')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'setToken')?.a).toEqual({
      kind: 'runpod',
      value: 'rpa_SECRET123'
    })
    expect(w.get('[data-testid="token-runpod"] .badge').text()).toBe('set')
    expect((w.get('[data-testid="token-runpod"] input').element as HTMLInputElement).value).toBe('')
    expect(w.html()).not.toContain('rpa_SECRET123')
  })

  it('without a way to save it (podpull serve) names RUNPOD_API_KEY', async () => {
    const fake = fakeBridge(snapshot({ tokens: { hf: false, civitai: false, editable: false } }))
    w = await mountWith(SettingsPanel, fake)
    expect(w.get('[data-testid="token-runpod"]').text()).toMatch(/not set.*set RUNPOD_API_KEY/)
  })
})
