import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import TargetsPanel from '../../src/renderer/components/TargetsPanel.vue'
import type { TargetInfo } from '../../src/shared/types'
import { apiError, fakeBridge, snapshot, target } from './fixtures'
import { mountWith } from './mountApp'

let w: VueWrapper | null = null
afterEach(() => {
  vi.useRealTimers()
  w?.unmount()
  w = null
})

const pod = (over: Partial<TargetInfo> = {}): TargetInfo =>
  target({
    id: 'p1',
    name: 'pod-a100',
    config: { kind: 'ssh', host: '10.0.0.5', port: 2222, user: 'root', workspace: '/workspace' },
    ...over
  })

describe('targets sidebar', () => {
  it('says what to do when there are no targets', async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    w = await mountWith(TargetsPanel, fake)
    expect(w.get('[data-testid="empty-targets"]').text()).toMatch(/Add your local ComfyUI folder/)
  })

  it('shows free space, and "last seen" only for a target that is not online', async () => {
    const fake = fakeBridge(
      snapshot({
        targets: [
          target({ id: 't1', name: 'studio', freeBytes: 812e9 }),
          pod({
            connection: 'offline',
            lastSeen: Date.now() - 5 * 60_000,
            message: 'Connection refused'
          })
        ]
      })
    )
    w = await mountWith(TargetsPanel, fake)
    expect(w.get('[data-testid="target-t1"]').text()).toContain('812.0 GB free')
    expect(w.get('[data-testid="target-t1"]').find('[data-testid="last-seen"]').exists()).toBe(
      false
    )
    const p = w.get('[data-testid="target-p1"]')
    expect(p.get('[data-testid="last-seen"]').text()).toBe('last seen 5 min ago')
    expect(p.text()).toContain('root@10.0.0.5:2222')
    expect(p.text()).toContain('Connection refused')
    // The pod comes back: the note goes.
    fake.emit('targetsChanged', [target({ id: 't1' }), pod({ connection: 'online' })])
    await flushPromises()
    expect(w.findAll('[data-testid="last-seen"]')).toHaveLength(0)
  })

  it('shows the bandwidth cap in force on a capped target only, and follows its changes', async () => {
    const capped = { text: '5.0 MB/s until 01:00', bytesPerSec: 5e6 }
    const fake = fakeBridge(
      snapshot({ targets: [target({ id: 't1', name: 'studio', bandwidth: capped }), pod()] })
    )
    w = await mountWith(TargetsPanel, fake)
    expect(w.get('[data-testid="target-t1"] [data-testid="target-cap"]').text()).toBe(
      'cap 5.0 MB/s until 01:00'
    )
    expect(w.find('[data-testid="target-p1"] [data-testid="target-cap"]').exists()).toBe(false)
    const night = { text: 'unlimited until 07:00', bytesPerSec: null }
    fake.emit('targetsChanged', [target({ id: 't1', name: 'studio', bandwidth: night }), pod()])
    await flushPromises()
    expect(w.get('[data-testid="target-cap"]').text()).toBe('cap unlimited until 07:00')
  })

  it('"last seen" ages while nothing else happens', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    const fake = fakeBridge(
      snapshot({ targets: [pod({ connection: 'offline', lastSeen: Date.now() - 5 * 60_000 })] })
    )
    w = await mountWith(TargetsPanel, fake)
    expect(w.get('[data-testid="last-seen"]').text()).toBe('last seen 5 min ago')
    vi.advanceTimersByTime(10 * 60_000)
    await flushPromises()
    expect(w.get('[data-testid="last-seen"]').text()).toBe('last seen 15 min ago')
  })

  it('adds a local target, offering the installs it found', async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    fake.answer('findComfyInstalls', () => ['/home/me/ComfyUI'])
    fake.answer('addTarget', (a) => target({ id: 'n', name: (a as { name: string }).name }))
    w = await mountWith(TargetsPanel, fake)
    await w.get('[data-testid="add-target"]').trigger('click')
    await flushPromises()
    const dialog = w.get('[data-testid="target-dialog"]')
    // Browse… is for Electron only.
    expect(dialog.text()).not.toContain('Browse')
    await dialog.get('[data-testid="target-name"]').setValue('studio')
    await dialog
      .findAll('button')
      .find((b) => b.text() === '/home/me/ComfyUI')!
      .trigger('click')
    await dialog.get('form').trigger('submit')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'addTarget')?.a).toEqual({
      kind: 'local',
      name: 'studio',
      comfyui: '/home/me/ComfyUI',
      workspace: undefined
    })
    expect(w.find('[data-testid="target-dialog"]').exists()).toBe(false)
  })

  it('first run: each install found is a target in one click, named apart; then the RunPod key', async () => {
    const fake = fakeBridge(
      snapshot({ targets: [], tokens: { hf: false, civitai: false, editable: true } })
    )
    fake.answer('findComfyInstalls', () => ['/home/me/ComfyUI', '/opt/ComfyUI'])
    const made: TargetInfo[] = []
    fake.answer('addTarget', (a) => {
      if (a.kind !== 'local') throw new Error('local expected')
      made.push(
        target({
          id: a.name,
          name: a.name,
          config: { kind: 'local', comfyui: a.comfyui, workspace: '/w' }
        })
      )
      fake.emit('targetsChanged', [...made])
      return made.at(-1)!
    })
    fake.answer('setToken', () => ({ hf: false, civitai: false, runpod: true, editable: true }))
    w = await mountWith(TargetsPanel, fake)
    expect(w.find('[data-testid="empty-targets"]').exists()).toBe(true)
    // No key offer before there is a target to work with.
    expect(w.find('[data-testid="first-run-key"]').exists()).toBe(false)
    const offers = () => w!.findAll('[data-testid="found-installs"] button')
    expect(offers().map((b) => b.text())).toEqual(['Use /home/me/ComfyUI', 'Use /opt/ComfyUI'])
    await offers()[0]!.trigger('click')
    await flushPromises()
    expect(w.get('[data-testid="found-added"]').text()).toBe('✓ /home/me/ComfyUI — added as local')
    await offers()[0]!.trigger('click')
    await flushPromises()
    expect(fake.calls.filter((c) => c.m === 'addTarget').map((c) => c.a)).toEqual([
      { kind: 'local', name: 'local', comfyui: '/home/me/ComfyUI' },
      { kind: 'local', name: 'local-2', comfyui: '/opt/ComfyUI' }
    ])

    await w.get('[data-testid="first-run-key-input"]').setValue('rp_secret')
    await w.get('[data-testid="first-run-key"]').trigger('submit')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'setToken')?.a).toEqual({
      kind: 'runpod',
      value: 'rp_secret'
    })
    expect(w.get('[data-testid="runpod-key-set"]').text()).toBe('✓ RunPod API key is set.')
    expect(w.html()).not.toContain('rp_secret')
    await w.get('[data-testid="first-run-done"]').trigger('click')
    expect(w.find('[data-testid="first-run"]').exists()).toBe(false)
  })

  it('no first-run card when targets exist already', async () => {
    const fake = fakeBridge()
    w = await mountWith(TargetsPanel, fake)
    expect(w.find('[data-testid="first-run"]').exists()).toBe(false)
    expect(fake.calls.some((c) => c.m === 'findComfyInstalls')).toBe(false)
  })

  it('keeps the dialog and what was typed when main refuses, saying why', async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    fake.answer('findComfyInstalls', () => [])
    fake.answer('addTarget', () => {
      throw apiError('not-comfyui', '/tmp/x is not a ComfyUI install: it has no models/ folder.')
    })
    w = await mountWith(TargetsPanel, fake)
    await w.get('[data-testid="add-target"]').trigger('click')
    await w.get('[data-testid="target-name"]').setValue('studio')
    await w.get('[data-testid="target-comfyui"]').setValue('/tmp/x')
    await w.get('[data-testid="target-save"]').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="target-error"]').text()).toBe(
      '/tmp/x is not a ComfyUI install: it has no models/ folder.'
    )
    expect((w.get('[data-testid="target-comfyui"]').element as HTMLInputElement).value).toBe(
      '/tmp/x'
    )
  })

  it('a new pod: test connection, confirm the host key, and send it on save', async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    fake.answer('findComfyInstalls', () => [])
    fake.answer('testConnection', () => ({
      ok: true,
      message: 'Connected.',
      fingerprint: 'SHA256:abcDEF',
      needsHostKeyConfirmation: true,
      freeBytes: 2e9
    }))
    fake.answer('addTarget', () => pod())
    w = await mountWith(TargetsPanel, fake)
    await w.get('[data-testid="add-target"]').trigger('click')
    await w.get('input[type="radio"][value="ssh"]').setValue(true)
    await w.get('[data-testid="target-name"]').setValue('pod-a100')
    await w.get('[data-testid="target-host"]').setValue('10.0.0.5')
    await w.get('[data-testid="target-port"]').setValue('2222')
    await w.get('[data-testid="target-key"]').setValue('/root/.ssh/id_ed25519')
    await w.get('[data-testid="target-secret"]').setValue('pass phrase')
    await w.get('[data-testid="target-test"]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid="hostkey"]').text()).toContain('SHA256:abcDEF')
    expect(w.text()).toContain('2.0 GB free')

    // Saving without confirming the fingerprint is refused, inline.
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="target-error"]').text()).toMatch(/Confirm the host key/)
    expect(fake.calls.some((c) => c.m === 'addTarget')).toBe(false)

    await w.get('[data-testid="trust-hostkey"]').setValue(true)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'addTarget')?.a).toEqual({
      kind: 'ssh',
      name: 'pod-a100',
      host: '10.0.0.5',
      port: 2222,
      user: 'root',
      keyPath: '/root/.ssh/id_ed25519',
      secret: 'pass phrase',
      workspace: '/workspace',
      comfyui: undefined,
      acceptHostKey: 'SHA256:abcDEF'
    })
  })

  it('edits send only what changed', async () => {
    const fake = fakeBridge(snapshot({ targets: [pod()] }))
    fake.answer('updateTarget', () => pod({ name: 'renamed' }))
    w = await mountWith(TargetsPanel, fake)
    await w.get('[aria-label="Edit pod-a100"]').trigger('click')
    await w.get('[data-testid="target-name"]').setValue('renamed')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'updateTarget')?.a).toEqual({
      id: 'p1',
      patch: { name: 'renamed' }
    })
  })

  it('removes a target after confirmation; Escape closes the dialog', async () => {
    const fake = fakeBridge(snapshot({ targets: [pod()] }))
    fake.answer('removeTarget', () => undefined)
    w = await mountWith(TargetsPanel, fake)
    await w.get('[data-testid="add-target"]').trigger('click')
    await w.get('[role="dialog"]').trigger('keydown', { key: 'Escape' })
    expect(w.find('[role="dialog"]').exists()).toBe(false)
    await w.get('[aria-label="Remove pod-a100"]').trigger('click')
    await w.get('[data-testid="confirm"]').trigger('click')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'removeTarget')?.a).toEqual({ id: 'p1' })
  })
})

describe('a pod whose host key changed', () => {
  const pinned = 'SHA256:' + 'A'.repeat(43)
  const presented = 'SHA256:' + 'B'.repeat(43)

  it('shows both fingerprints and trusts the new key when asked', async () => {
    const changed = pod({
      connection: 'error',
      message: 'The host key of 10.0.0.5:2222 changed',
      hostKeyChange: { pinned, presented }
    })
    const fake = fakeBridge(snapshot({ targets: [changed] }))
    fake.answer('trustHostKey', () => pod({ connection: 'online', hostKeyChange: null }))
    w = await mountWith(TargetsPanel, fake)
    const card = w.get('[data-testid="target-p1"]')
    expect(card.get('[data-testid="hostkey-pinned"]').text()).toBe(pinned)
    expect(card.get('[data-testid="hostkey-presented"]').text()).toBe(presented)
    expect(card.get('[data-testid="hostkey-change"]').text()).toMatch(/console/)
    await card.get('[data-testid="trust-new-key"]').trigger('click')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'trustHostKey')?.a).toEqual({
      id: 'p1',
      fingerprint: presented
    })
    // Main answers with the list: the card goes back to normal.
    fake.emit('targetsChanged', [pod({ connection: 'online', hostKeyChange: null })])
    await flushPromises()
    expect(w.find('[data-testid="hostkey-change"]').exists()).toBe(false)
  })

  it('says why when the pod presents another key by now', async () => {
    const fake = fakeBridge(
      snapshot({ targets: [pod({ connection: 'error', hostKeyChange: { pinned, presented } })] })
    )
    fake.answer('trustHostKey', () => {
      throw apiError('host-key-mismatch', `"pod-a100" presents SHA256:C now, not ${presented}`)
    })
    w = await mountWith(TargetsPanel, fake)
    await w.get('[data-testid="trust-new-key"]').trigger('click')
    await flushPromises()
    expect(w.get('[role="alert"]').text()).toContain('presents SHA256:C now')
  })

  it('shows no trust action for an ordinary error', async () => {
    const fake = fakeBridge(snapshot({ targets: [pod({ connection: 'error', message: 'x' })] }))
    w = await mountWith(TargetsPanel, fake)
    expect(w.find('[data-testid="trust-new-key"]').exists()).toBe(false)
    expect(w.text()).toContain('x')
  })
})
