import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import DownloadsPanel from '../../src/renderer/components/DownloadsPanel.vue'
import { apiError, fakeBridge, record, snapshot, target } from './fixtures'
import { mountWith } from './mountApp'

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})
const rowIds = (wr: VueWrapper): string[] =>
  wr.findAll('[data-state]').map((r) => r.attributes('data-testid')!.slice('download-'.length))

const twoTargets = () =>
  snapshot({
    targets: [
      target({ id: 't1', name: 'studio' }),
      target({
        id: 'p1',
        name: 'pod',
        config: { kind: 'ssh', host: 'h', port: 22, user: 'root', workspace: '/workspace' },
        connection: 'offline',
        lastSeen: Date.now() - 5 * 60_000
      })
    ],
    downloads: [
      record({ id: 'done', state: 'completed', startTime: 900 }),
      record({ id: 'a', targetId: 't1', startTime: 100 }),
      record({ id: 'b', targetId: 'p1', startTime: 200 }),
      record({ id: 'bad', state: 'error', error: 'No space left.', startTime: 300 })
    ]
  })

describe('downloads panel', () => {
  it('says what to do when there are no downloads', async () => {
    w = await mountWith(DownloadsPanel, fakeBridge())
    expect(w.get('[data-testid="empty-downloads"]').text()).toMatch(/Paste a model URL/)
  })

  it('groups rows by target: open ones in view, completed ones folded; with totals', async () => {
    w = await mountWith(DownloadsPanel, fakeBridge(twoTargets()))
    expect(rowIds(w)).toEqual(['a', 'bad', 'done', 'b'])
    const studio = w.get('[data-testid="group-t1"]')
    expect(studio.get('h3').text()).toBe('studio 1 downloading · 1 failed · 1 completed')
    expect(w.get('[data-testid="group-p1"] h3').text()).toBe('pod 1 downloading')
    const fold = studio.get<HTMLDetailsElement>('[data-testid="completed-fold"]')
    expect(fold.element.open).toBe(false)
    expect(fold.get('summary').text()).toBe('1 completed · 1.0 KB')
    expect(fold.find('[data-testid="download-done"]').exists()).toBe(true)
    // Unfolded stays unfolded when the rows change.
    fold.element.open = true
    await fold.trigger('toggle')
    w.findComponent(DownloadsPanel).vm.$forceUpdate()
    await flushPromises()
    expect(w.get<HTMLDetailsElement>('[data-testid="completed-fold"]').element.open).toBe(true)
    expect(w.find('[data-testid="empty-downloads"]').exists()).toBe(false)
    expect(w.text()).toContain('2 active')
  })

  it('dims rows of an offline pod and says when it was last seen', async () => {
    w = await mountWith(DownloadsPanel, fakeBridge(twoTargets()))
    const b = w.get('[data-testid="download-b"]')
    expect(b.classes()).toContain('stale')
    expect(b.text()).toContain('last seen 5 min ago')
    expect(w.get('[data-testid="download-a"]').classes()).not.toContain('stale')
  })

  it('filters by target and by state', async () => {
    w = await mountWith(DownloadsPanel, fakeBridge(twoTargets()))
    await w.get('[data-testid="filter-target"]').setValue('p1')
    expect(rowIds(w)).toEqual(['b'])
    await w.get('[data-testid="filter-target"]').setValue('')
    await w.get('[data-testid="filter-state"]').setValue('error')
    expect(rowIds(w)).toEqual(['bad'])
  })

  it('cancels only after confirmation', async () => {
    const fake = fakeBridge(twoTargets())
    fake.answer('cancelDownload', () => undefined)
    w = await mountWith(DownloadsPanel, fake)
    await w.get('[data-testid="download-a"] [data-testid="cancel"]').trigger('click')
    expect(fake.calls.some((c) => c.m === 'cancelDownload')).toBe(false)
    expect(w.get('[role="dialog"]').text()).toContain('a.safetensors')
    await w.get('[data-testid="confirm"]').trigger('click')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'cancelDownload')?.a).toEqual({
      targetId: 't1',
      id: 'a'
    })
    expect(w.find('[role="dialog"]').exists()).toBe(false)
  })

  it('Escape closes the confirmation without cancelling', async () => {
    const fake = fakeBridge(twoTargets())
    w = await mountWith(DownloadsPanel, fake)
    await w.get('[data-testid="download-a"] [data-testid="cancel"]').trigger('click')
    await w.get('[role="dialog"]').trigger('keydown', { key: 'Escape' })
    expect(w.find('[role="dialog"]').exists()).toBe(false)
    // Also when focus has fallen out of the dialog to the page.
    await w.get('[data-testid="download-a"] [data-testid="cancel"]').trigger('click')
    ;(document.activeElement as HTMLElement | null)?.blur()
    document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))
    await flushPromises()
    expect(w.find('[role="dialog"]').exists()).toBe(false)
    expect(fake.calls.some((c) => c.m === 'cancelDownload')).toBe(false)
  })

  it('pauses, retries and clears completed through main, showing its errors', async () => {
    const fake = fakeBridge(twoTargets())
    fake.answer('pauseDownload', () => undefined)
    fake.answer('retryDownload', () => {
      throw apiError('no-space', 'Not enough free space on studio: 1.0 GB needed, 0.2 GB free.')
    })
    fake.answer('clearCompleted', () => ({ removed: 1 }))
    w = await mountWith(DownloadsPanel, fake)
    await w.get('[data-testid="download-a"] [data-testid="pause"]').trigger('click')
    await w.get('[data-testid="download-bad"] [data-testid="retry"]').trigger('click')
    await flushPromises()
    expect(w.get('[role="alert"]').text()).toBe(
      'Not enough free space on studio: 1.0 GB needed, 0.2 GB free.'
    )
    await w.get('[data-testid="clear-completed"]').trigger('click')
    await flushPromises()
    expect(fake.calls.map((c) => c.m)).toEqual([
      'getSnapshot',
      'pauseDownload',
      'retryDownload',
      'clearCompleted'
    ])
    expect(fake.calls.at(-1)?.a).toEqual({ targetId: undefined })
  })

  it('continues a failed download with a new link, checked before it is sent', async () => {
    const fake = fakeBridge(twoTargets())
    let fail = true
    fake.answer('resumeDownload', () => {
      if (fail) throw apiError('auth', 'The server refused the download (403).')
    })
    w = await mountWith(DownloadsPanel, fake)
    await w.get('[data-testid="download-bad"] [data-testid="relink"]').trigger('click')
    const dialog = () => w!.get('[data-testid="fresh-link-dialog"]')
    expect(dialog().text()).toContain('Paste a fresh link to bad.safetensors')
    await w.get('[data-testid="fresh-link-url"]').setValue('not a link')
    const submit = () => w!.get('[data-testid="fresh-link-dialog"] form').trigger('submit')
    await submit()
    expect(w.get('[data-testid="fresh-link-error"]').text()).toMatch(/http\(s\) link/)
    expect(fake.calls.some((c) => c.m === 'resumeDownload')).toBe(false)
    const fresh = 'https://cdn.example/m.safetensors?X-Amz-Signature=new'
    await w.get('[data-testid="fresh-link-url"]').setValue(`  ${fresh} `)
    await submit()
    await flushPromises()
    // Main's answer is shown in the dialog, which stays open to try another link.
    expect(w.get('[data-testid="fresh-link-error"]').text()).toContain('403')
    fail = false
    await submit()
    await flushPromises()
    expect(fake.calls.filter((c) => c.m === 'resumeDownload').map((c) => c.a)).toEqual([
      { targetId: 't1', id: 'bad', url: fresh },
      { targetId: 't1', id: 'bad', url: fresh }
    ])
    expect(w.find('[data-testid="fresh-link-dialog"]').exists()).toBe(false)
  })

  it('rows follow events: a completed download folds away, a removed one goes', async () => {
    const fake = fakeBridge(twoTargets())
    w = await mountWith(DownloadsPanel, fake)
    fake.emit('downloadsChanged', {
      targetId: 't1',
      upserts: [record({ id: 'a', rev: 2, state: 'completed', progress: 100, startTime: 100 })],
      removed: [{ id: 'done', rev: 2 }]
    })
    await flushPromises()
    expect(rowIds(w)).toEqual(['bad', 'a', 'b'])
    expect(
      w.get('[data-testid="completed-fold"]').find('[data-testid="download-a"]').exists()
    ).toBe(true)
    expect(w.get('[data-testid="download-a"]').attributes('data-state')).toBe('completed')
  })
})
