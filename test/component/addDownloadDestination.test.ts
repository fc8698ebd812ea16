// The add-download form shows the directory a download will really go to on
// the chosen target — the folder extra_model_paths.yaml sets, when it does —
// and follows the folder and target the user picks.
import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import AddDownloadPanel from '../../src/renderer/components/AddDownloadPanel.vue'
import type { DownloadPreview } from '../../src/shared/types'
import { fakeBridge, snapshot, target } from './fixtures'
import { mountWith } from './mountApp'

const URL1 = 'https://example.com/models/flux-lora.safetensors'
const preview: DownloadPreview = {
  url: URL1,
  filename: 'flux-lora.safetensors',
  size: 1000,
  source: 'direct',
  suggestedFolder: 'loras',
  sha256: null,
  warning: null
}
/** The destination line's text once it shows (polled: no assumption about timing). */
const lineOf = (w: VueWrapper) => () => {
  const el = w.find('[data-testid="destination"]')
  return el.exists() ? el.text() : ''
}

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

describe('add a download: where it goes', () => {
  it('shows the real directory for the suggested folder, per target and folder', async () => {
    const fake = fakeBridge(
      snapshot({ targets: [target({ id: 't1' }), target({ id: 't2', name: 'pod' })] })
    )
    fake.answer('previewDownload', () => preview)
    fake.answer('destinationFolder', ({ targetId, folder }) =>
      targetId === 't1' && folder === 'loras'
        ? { dir: '/mnt/shared/loras', extra: true }
        : { dir: `/workspace/ComfyUI/models/${folder}`, extra: false }
    )
    w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
    await w.get('[data-testid="url-input"]').setValue(URL1)
    const line = lineOf(w)
    await expect.poll(line).toContain('/mnt/shared/loras')
    expect(line()).toContain('extra_model_paths.yaml')
    await w.get('[data-testid="target-select"]').setValue('t2')
    await expect.poll(line).toContain('/workspace/ComfyUI/models/loras')
    expect(line()).not.toContain('extra_model_paths.yaml')
    await w.get('[data-testid="folder-input"]').setValue('vae')
    await expect.poll(line).toContain('/workspace/ComfyUI/models/vae')
  })

  it('hides the line when the target cannot say (an offline pod)', async () => {
    const fake = fakeBridge()
    fake.answer('previewDownload', () => preview)
    fake.answer('destinationFolder', () => {
      throw Object.assign(new Error('The pod is not connected.'), { code: 'offline' })
    })
    w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
    await w.get('[data-testid="url-input"]').setValue(URL1)
    await expect.poll(() => fake.calls.some((c) => c.m === 'destinationFolder')).toBe(true)
    await flushPromises()
    expect(w.find('[data-testid="destination"]').exists()).toBe(false)
    expect(w.find('[data-testid="add-download-notice"]').exists()).toBe(false)
  })
})
