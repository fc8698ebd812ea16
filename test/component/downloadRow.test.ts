import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import DownloadRow from '../../src/renderer/components/DownloadRow.vue'
import type { JobState } from '../../src/shared/types'
import { record } from './fixtures'

function row(state: JobState, extra: Parameters<typeof record>[0] | object = {}, canOpen = false) {
  return mount(DownloadRow, {
    props: {
      record: record({ id: 'r1', state, ...extra }),
      targetName: 'studio',
      canOpenFolder: canOpen
    }
  })
}
const buttons = (w: ReturnType<typeof row>): string[] =>
  w.findAll('button').map((b) => b.attributes('data-testid')!)

describe('download row', () => {
  it.each<[JobState, string[]]>([
    ['queued', ['pause', 'cancel', 'copy']],
    ['starting', ['pause', 'cancel', 'copy']],
    ['downloading', ['pause', 'cancel', 'copy']],
    ['paused', ['resume', 'relink', 'cancel', 'copy']],
    ['verifying', ['cancel', 'copy']],
    ['completed', ['copy', 'remove']],
    ['error', ['retry', 'relink', 'copy', 'remove']],
    ['cancelled', ['retry', 'copy', 'remove']]
  ])('in state %s offers %j', (state, expected) => {
    const w = row(state)
    expect(buttons(w)).toEqual(expected)
    expect(w.attributes('data-state')).toBe(state)
    expect(w.attributes('data-testid')).toBe('download-r1')
  })

  it('an upload is marked, says "Uploading", and offers no link actions', () => {
    const w = row('downloading', { kind: 'upload', url: 'file:///home/me/a.safetensors' })
    expect(w.get('[data-testid="upload-mark"]').text()).toContain('upload')
    expect(w.get('.badge').text()).toBe('Uploading')
    expect(buttons(w)).toEqual(['pause', 'cancel'])
    expect(buttons(row('paused', { kind: 'upload' }))).toEqual(['resume', 'cancel'])
    expect(row('downloading').find('[data-testid="upload-mark"]').exists()).toBe(false)
  })

  it('offers Open folder for a finished local download only when allowed', () => {
    expect(buttons(row('completed', {}, true))).toContain('open')
    expect(buttons(row('downloading', {}, true))).not.toContain('open')
  })

  it('exposes progress to assistive tech and shows sizes, speed and time left', () => {
    const w = row('downloading', {
      progress: 45.25,
      fileSize: 23_800_000_000,
      downloaded: 10_770_000_000,
      speed: 15_000_000,
      eta: 780
    })
    const bar = w.get('[role="progressbar"]')
    expect(bar.attributes('aria-valuenow')).toBe('45.3')
    expect(bar.attributes('aria-valuemin')).toBe('0')
    expect(bar.attributes('aria-valuemax')).toBe('100')
    expect(bar.attributes('aria-label')).toBe('Progress of r1.safetensors')
    expect(w.text()).toContain('10.8 GB / 23.8 GB')
    expect(w.text()).toContain('15.0 MB/s')
    expect(w.text()).toContain('13 min left')
    expect(w.text()).toContain('studio')
    expect(w.text()).toContain('Downloading')
  })

  it('shows the reason of a failure, and nothing of the kind otherwise', () => {
    const failed = row('error', { error: 'Civitai sent a login page: set your Civitai token.' })
    expect(failed.get('[data-testid="download-error"]').text()).toBe(
      'Civitai sent a login page: set your Civitai token.'
    )
    expect(failed.text()).toContain('Failed')
    expect(row('downloading').find('[data-testid="download-error"]').exists()).toBe(false)
  })

  it('shows what a running download waits for, and why a paused one stopped', () => {
    const waiting = row('downloading', {
      notice: 'rate-limited by huggingface.co, going on in 2 s'
    })
    expect(waiting.get('[data-testid="download-notice"]').text()).toBe(
      'rate-limited by huggingface.co, going on in 2 s'
    )
    const paused = row('paused', { error: 'huggingface.co asks to wait 24 h before going on' })
    expect(paused.get('[data-testid="download-error"]').text()).toMatch(/asks to wait 24 h/)
    expect(row('downloading').find('[data-testid="download-notice"]').exists()).toBe(false)
  })

  it('a completed row reads 100% whatever the last progress figure was', () => {
    const w = row('completed', { progress: 99.9, downloaded: 1000, fileSize: 1000 })
    expect(w.get('[role="progressbar"]').attributes('aria-valuenow')).toBe('100')
  })

  it('emits the action with its record', async () => {
    const w = row('paused')
    await w.get('[data-testid="resume"]').trigger('click')
    const ev = w.emitted('action')!
    expect(ev[0]![0]).toBe('resume')
    expect((ev[0]![1] as { id: string }).id).toBe('r1')
  })

  it('marks rows of an unreachable target with when it was last seen', () => {
    const w = mount(DownloadRow, {
      props: { record: record({ id: 'r1' }), targetName: 'pod', staleNote: 'last seen 5 min ago' }
    })
    expect(w.classes()).toContain('stale')
    expect(w.text()).toContain('last seen 5 min ago')
    // Its last speed and time left would be guesses: not shown.
    expect(w.text()).not.toContain('/s')
    expect(w.text()).not.toContain('left')
  })
})
