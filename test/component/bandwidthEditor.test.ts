// The target dialog's bandwidth section: prefilled from the target's limits,
// checked field by field before anything is sent, saved through setBandwidth
// only when it changed, and main's refusal shown as it comes.
import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import TargetsPanel from '../../src/renderer/components/TargetsPanel.vue'
import type { TargetInfo } from '../../src/shared/types'
import { apiError, fakeBridge, snapshot, target, type FakeBridge } from './fixtures'
import { mountWith } from './mountApp'

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

const studio = (over: Partial<TargetInfo> = {}): TargetInfo =>
  target({
    id: 't1',
    name: 'studio',
    config: {
      kind: 'local',
      comfyui: '/c/ComfyUI',
      workspace: '/c',
      bandwidth: {
        maxSpeed: 5e6,
        schedule: [{ from: '23:00', to: '07:00', maxSpeed: null }],
        timeZone: 'Europe/Berlin'
      }
    },
    ...over
  })

async function openEdit(fake: FakeBridge): Promise<VueWrapper> {
  fake.answer('updateTarget', () => studio())
  w = await mountWith(TargetsPanel, fake)
  await w.get('[aria-label="Edit studio"]').trigger('click')
  await flushPromises()
  return w
}

const submit = async (v: VueWrapper): Promise<void> => {
  await v.get('form').trigger('submit')
  await flushPromises()
}

const editor = (v: VueWrapper) => v.get('[data-testid="bandwidth-editor"]')
type Scope = ReturnType<typeof editor>
const field = (scope: Scope, id: string) => scope.get(`[data-testid="${id}"]`)
/** What an input (or select) of the section holds now. */
const valueOf = (scope: Scope, id: string): string =>
  (field(scope, id).element as HTMLInputElement).value
/** Sets fields in order, as a user would: test id → value. */
async function fill(scope: Scope, values: Record<string, string | boolean>): Promise<void> {
  for (const [id, value] of Object.entries(values)) await field(scope, id).setValue(value)
}
/** The limits the dialog sent main (undefined: none were sent). */
const sentLimits = (fake: FakeBridge): unknown => fake.calls.find((c) => c.m === 'setBandwidth')?.a
const errorLine = (v: VueWrapper): string => field(editor(v), 'bw-error').text()

describe('bandwidth in the target dialog', () => {
  it('shows the limits the target has, and saves a changed cap and a new window', async () => {
    const fake = fakeBridge(snapshot({ targets: [studio()] }))
    fake.answer('setBandwidth', () =>
      studio({ bandwidth: { text: '2.5 MB/s', bytesPerSec: 2.5e6 } })
    )
    const v = await openEdit(fake)
    const e = editor(v)
    expect(valueOf(e, 'bw-max')).toBe('5')
    expect(valueOf(e, 'bw-max-unit')).toBe('MB/s')
    const rule0 = field(e, 'bw-rule-0')
    expect(valueOf(rule0, 'bw-from')).toBe('23:00')
    expect(valueOf(rule0, 'bw-to')).toBe('07:00')
    expect((field(rule0, 'bw-unlimited').element as HTMLInputElement).checked).toBe(true)
    expect(valueOf(e, 'bw-zone')).toBe('Europe/Berlin')

    await fill(e, { 'bw-max': '2.5' })
    await field(e, 'bw-add').trigger('click')
    await fill(field(e, 'bw-rule-1'), {
      'bw-from': '12:00',
      'bw-to': '13:00',
      'bw-unlimited': false,
      'bw-speed': '750',
      'bw-speed-unit': 'KB/s'
    })
    await submit(v)
    expect(sentLimits(fake)).toEqual({
      id: 't1',
      maxSpeed: '2.5MB',
      schedule: '23:00-07:00=unlimited, 12:00-13:00=750KB',
      timeZone: 'Europe/Berlin'
    })
    expect(v.find('[data-testid="target-dialog"]').exists()).toBe(false)
  })

  it('an empty max speed and no windows lift the cap; an unchanged section is not sent', async () => {
    const fake = fakeBridge(snapshot({ targets: [studio()] }))
    fake.answer('setBandwidth', () => studio())
    let v = await openEdit(fake)
    await submit(v)
    expect(fake.calls.some((c) => c.m === 'setBandwidth')).toBe(false)

    v.unmount()
    v = await openEdit(fake)
    await fill(editor(v), { 'bw-max': '' })
    await editor(v).get('[aria-label="Remove window 1"]').trigger('click')
    expect(editor(v).text()).toContain('No windows: the max speed holds all day.')
    await submit(v)
    expect(sentLimits(fake)).toEqual({
      id: 't1',
      maxSpeed: 'unlimited',
      schedule: '',
      timeZone: 'Europe/Berlin'
    })
  })

  it.each([
    ['bw-max', 'fast', 'Max speed: "fast" is not a number (e.g. 5 or 2.5).'],
    ['bw-max', '0.005', 'Max speed: at least 10 KB/s (slower looks like a hang).'],
    [
      'bw-zone',
      'Mars/Olympus',
      '"Mars/Olympus" is not a time zone: write it like Europe/Berlin or UTC.'
    ]
  ])('%s = %j is refused with one clear line and nothing is sent', async (id, value, text) => {
    const fake = fakeBridge(snapshot({ targets: [studio()] }))
    const v = await openEdit(fake)
    const input = field(editor(v), id)
    await input.setValue(value)
    await submit(v)
    expect(errorLine(v)).toBe(text)
    expect(input.attributes('aria-invalid')).toBe('true')
    expect(input.attributes('aria-describedby')).toBe(field(editor(v), 'bw-error').attributes('id'))
    expect(fake.calls.some((c) => c.m === 'updateTarget' || c.m === 'setBandwidth')).toBe(false)
    // Editing the form takes the message away.
    await input.setValue(id === 'bw-zone' ? 'UTC' : '5')
    expect(editor(v).find('[data-testid="bw-error"]').exists()).toBe(false)
  })

  it('names the window that is wrong: no speed, the same start and end, an overlap', async () => {
    const fake = fakeBridge(snapshot({ targets: [studio()] }))
    const v = await openEdit(fake)
    await field(editor(v), 'bw-add').trigger('click')
    const rule1 = field(editor(v), 'bw-rule-1')
    await fill(rule1, { 'bw-unlimited': false })
    await submit(v)
    expect(errorLine(v)).toBe('Window 2: enter a speed, or tick "unlimited".')
    expect(field(rule1, 'bw-speed').attributes('aria-invalid')).toBe('true')
    await fill(rule1, { 'bw-speed': '2', 'bw-from': '07:00' })
    await submit(v)
    expect(errorLine(v)).toBe(
      'Window 2: starts and ends at 07:00; remove it to use the max speed all day.'
    )
    // 01:00-07:00 lies inside 23:00-07:00 (past midnight).
    await fill(rule1, { 'bw-from': '01:00' })
    await submit(v)
    expect(errorLine(v)).toBe(
      'The windows 23:00-07:00 and 01:00-07:00 overlap: each minute of the day may have one cap only.'
    )
    expect(fake.calls.some((c) => c.m === 'setBandwidth')).toBe(false)
  })

  it("shows main's refusal of the limits", async () => {
    const fake = fakeBridge(snapshot({ targets: [studio()] }))
    fake.answer('setBandwidth', () => {
      throw apiError('bad-request', '"studio" cannot take a bandwidth cap.')
    })
    const v = await openEdit(fake)
    await fill(editor(v), { 'bw-max': '8' })
    await submit(v)
    expect(v.get('[data-testid="target-error"]').text()).toBe(
      '"studio" cannot take a bandwidth cap.'
    )
    expect(v.find('[data-testid="target-dialog"]').exists()).toBe(true)
  })

  it('a new target gets its cap right after it is added', async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    fake.answer('findComfyInstalls', () => [])
    fake.answer('addTarget', () => target({ id: 'n1', name: 'home' }))
    fake.answer('setBandwidth', () => target({ id: 'n1', name: 'home' }))
    const v = (w = await mountWith(TargetsPanel, fake))
    await v.get('[data-testid="add-target"]').trigger('click')
    await flushPromises()
    await v.get('[data-testid="target-name"]').setValue('home')
    await v.get('[data-testid="target-comfyui"]').setValue('/home/me/ComfyUI')
    await fill(editor(v), { 'bw-max': '5', 'bw-zone': 'Asia/Tokyo' })
    await submit(v)
    const order = fake.calls
      .map((c) => c.m)
      .filter((m) => m === 'addTarget' || m === 'setBandwidth')
    expect(order).toEqual(['addTarget', 'setBandwidth'])
    expect(sentLimits(fake)).toEqual({
      id: 'n1',
      maxSpeed: '5MB',
      schedule: '',
      timeZone: 'Asia/Tokyo'
    })
  })
})
