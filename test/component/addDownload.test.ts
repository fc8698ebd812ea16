import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import AddDownloadPanel from '../../src/renderer/components/AddDownloadPanel.vue'
import type { DownloadPreview, StartResult } from '../../src/shared/types'
import { apiError, fakeBridge, snapshot, target } from './fixtures'
import { mountWith } from './mountApp'

const URL1 = 'https://example.com/models/flux-lora.safetensors'
const preview = (over: Partial<DownloadPreview> = {}): DownloadPreview => ({
  url: URL1,
  filename: 'flux-lora.safetensors',
  size: 144_000_000,
  source: 'direct',
  suggestedFolder: 'loras',
  sha256: null,
  warning: null,
  ...over
})
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

async function typeUrl(wrapper: VueWrapper, url: string): Promise<void> {
  await wrapper.get('[data-testid="url-input"]').setValue(url)
  await wait(20) // debounce is 5 ms in these tests
  await flushPromises()
}

describe('add a download', () => {
  it('previews the file after a pause in typing and fills in the suggested folder', async () => {
    const fake = fakeBridge()
    fake.answer('previewDownload', () => preview({ sha256: 'ab'.repeat(32) }))
    w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
    await typeUrl(w, URL1)
    expect(w.get('[data-testid="add-download"]').text()).toContain('flux-lora.safetensors')
    expect(w.text()).toContain('144.0 MB')
    expect(w.text()).toContain('ab'.repeat(32))
    expect((w.get('[data-testid="folder-input"]').element as HTMLInputElement).value).toBe('loras')
    expect(fake.calls.filter((c) => c.m === 'previewDownload')).toEqual([
      { m: 'previewDownload', a: { url: URL1, targetId: 't1' } }
    ])
  })

  it('starts on the chosen target and folder, then clears the URL for the next one', async () => {
    const fake = fakeBridge(
      snapshot({ targets: [target({ id: 't1' }), target({ id: 't2', name: 'pod' })] })
    )
    fake.answer('previewDownload', () => preview())
    fake.answer('startDownload', (): StartResult => ({ id: 'j1', outcome: 'started', path: '/p' }))
    w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
    await typeUrl(w, URL1)
    await w.get('[data-testid="target-select"]').setValue('t2')
    await w.get('[data-testid="folder-input"]').setValue('checkpoints')
    await w.get('[data-testid="start-download"]').trigger('submit')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'startDownload')?.a).toEqual({
      targetId: 't2',
      url: URL1,
      folder: 'checkpoints'
    })
    expect((w.get('[data-testid="url-input"]').element as HTMLInputElement).value).toBe('')
    expect(w.get('[data-testid="add-download-notice"]').text()).toBe(
      'Started flux-lora.safetensors.'
    )
  })

  it('says "already present" inline as information, not as a failure', async () => {
    const fake = fakeBridge()
    fake.answer('previewDownload', () => preview())
    fake.answer('startDownload', () => ({
      id: 'j1',
      outcome: 'already-present',
      path: '/c/ComfyUI/models/loras/flux-lora.safetensors'
    }))
    w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
    await typeUrl(w, URL1)
    await w.get('form').trigger('submit')
    await flushPromises()
    const notice = w.get('[data-testid="add-download-notice"]')
    expect(notice.text()).toBe(
      'Already present at /c/ComfyUI/models/loras/flux-lora.safetensors — nothing to download.'
    )
    expect(notice.attributes('role')).toBe('status')
    expect(notice.classes()).not.toContain('error-line')
  })

  it('a user-edited folder survives a late preview', async () => {
    const fake = fakeBridge()
    let release: () => void = () => undefined
    fake.answer('previewDownload', () => new Promise((ok) => (release = () => ok(preview()))))
    w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
    await typeUrl(w, URL1)
    await w.get('[data-testid="folder-input"]').setValue('vae')
    release()
    await flushPromises()
    expect((w.get('[data-testid="folder-input"]').element as HTMLInputElement).value).toBe('vae')
  })

  it('shows why the preview failed and still lets Start ask main, showing its error', async () => {
    const fake = fakeBridge()
    fake.answer('previewDownload', () => {
      throw apiError('html', 'The server sent an HTML login page, not a model file.')
    })
    fake.answer('startDownload', () => {
      throw apiError('auth', 'Civitai needs an API token: set it in Settings.')
    })
    w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
    await typeUrl(w, URL1)
    expect(w.get('[data-testid="add-download-notice"]').text()).toBe(
      'The server sent an HTML login page, not a model file.'
    )
    await w.get('form').trigger('submit')
    await flushPromises()
    const notice = w.get('[data-testid="add-download-notice"]')
    expect(notice.text()).toBe('Civitai needs an API token: set it in Settings.')
    expect(notice.attributes('role')).toBe('alert')
    // The URL stays so the user can fix the cause and try again.
    expect((w.get('[data-testid="url-input"]').element as HTMLInputElement).value).toBe(URL1)
  })

  it('says clearly when the text is not a web address, without calling main', async () => {
    const fake = fakeBridge()
    w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
    await typeUrl(w, 'huggingface.co/x/model.safetensors')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="add-download-notice"]').text()).toBe(
      '"huggingface.co/x/model.safetensors" is not a web address: paste a link starting with https://.'
    )
    expect(fake.calls.map((c) => c.m)).toEqual(['getSnapshot'])
  })

  it('asks for a target first when there is none, without calling main', async () => {
    const fake = fakeBridge(snapshot({ targets: [] }))
    fake.answer('previewDownload', () => preview())
    w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
    await typeUrl(w, URL1)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="add-download-notice"]').text()).toMatch(/Add a target first/)
    expect(fake.calls.some((c) => c.m === 'startDownload')).toBe(false)
  })

  it('takes a URL dropped onto the window', async () => {
    const fake = fakeBridge()
    fake.answer('previewDownload', () => preview())
    w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
    const drop = new Event('drop', { cancelable: true }) as Event & {
      dataTransfer: { getData: (t: string) => string }
    }
    drop.dataTransfer = { getData: (t) => (t === 'text/uri-list' ? `# comment\n${URL1}\n` : '') }
    window.dispatchEvent(drop)
    await wait(20)
    await flushPromises()
    expect((w.get('[data-testid="url-input"]').element as HTMLInputElement).value).toBe(URL1)
    expect(drop.defaultPrevented).toBe(true)
    expect(w.text()).toContain('flux-lora.safetensors')
  })
})

describe('add a download while a start is still on its way', () => {
  it('does not wipe a URL typed meanwhile', async () => {
    const fake = fakeBridge()
    fake.answer('previewDownload', (a) => preview({ url: (a as { url: string }).url }))
    let finish: () => void = () => undefined
    fake.answer(
      'startDownload',
      () => new Promise((ok) => (finish = () => ok({ id: 'j', outcome: 'started', path: '/p' })))
    )
    w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
    await typeUrl(w, URL1)
    await w.get('form').trigger('submit')
    const URL2 = 'https://example.com/models/second.safetensors'
    await typeUrl(w, URL2)
    finish()
    await flushPromises()
    expect((w.get('[data-testid="url-input"]').element as HTMLInputElement).value).toBe(URL2)
    expect(w.get('[data-testid="add-download-notice"]').text()).toBe(
      'Started flux-lora.safetensors.'
    )
  })
})
