// Hugging Face repo links and Civitai versions resolve to several files: the
// add-download form shows a picker, fills the folder from the chosen file and
// starts exactly that file.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import AddDownloadPanel from '../../src/renderer/components/AddDownloadPanel.vue'
import type { LinkPreview, Resolution, StartResult } from '../../src/shared/types'
import { fakeBridge, previewOf } from './fixtures'
import { mountWith } from './mountApp'

const REPO = 'https://huggingface.co/Comfy-Org/flux1'
const resolution: Resolution = {
  input: REPO,
  source: 'huggingface',
  title: 'Comfy-Org/flux1',
  page: REPO,
  selected: -1,
  modelType: null,
  baseModel: null,
  warning: null,
  files: [
    {
      url: `${REPO}/resolve/main/split_files/diffusion_models/flux1-dev.safetensors`,
      filename: 'flux1-dev.safetensors',
      size: 23_802_932_552,
      sha256: null,
      suggestedFolder: 'diffusion_models',
      label: 'split_files/diffusion_models/flux1-dev.safetensors',
      primary: false
    },
    {
      url: `${REPO}/resolve/main/split_files/vae/ae.safetensors`,
      filename: 'ae.safetensors',
      size: 335_304_388,
      sha256: 'cd'.repeat(32),
      suggestedFolder: 'vae',
      label: 'split_files/vae/ae.safetensors',
      primary: false
    }
  ]
}

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

describe('file picker for repo and Civitai links', () => {
  it('lists the files, asks for a choice, then starts the chosen file in its folder', async () => {
    const fake = fakeBridge()
    fake.answer('previewLink', (): LinkPreview => previewOf(resolution))
    fake.answer('startDownload', (): StartResult => ({ id: 'j1', outcome: 'started', path: '/p' }))
    w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
    await w.get('[data-testid="url-input"]').setValue(REPO)
    await vi.waitFor(() => expect(w!.find('[data-testid="file-picker"]').exists()).toBe(true))
    expect(
      w
        .get('[data-testid="file-picker"]')
        .findAll('option')
        .map((o) => o.text())
    ).toEqual([
      'Choose one of 2 files…',
      'split_files/diffusion_models/flux1-dev.safetensors · 23.8 GB',
      'split_files/vae/ae.safetensors · 335.3 MB'
    ])
    expect(fake.calls.some((c) => c.m === 'previewDownload')).toBe(false)

    await w.get('[data-testid="start-download"]').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="add-download-notice"]').text()).toBe('Pick one of the files first.')
    expect(fake.calls.some((c) => c.m === 'startDownload')).toBe(false)

    await w.get('[data-testid="file-picker"]').setValue('1')
    expect((w.get('[data-testid="folder-input"]').element as HTMLInputElement).value).toBe('vae')
    await w.get('[data-testid="start-download"]').trigger('submit')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'startDownload')?.a).toEqual({
      targetId: 't1',
      url: resolution.files[1]!.url,
      folder: 'vae',
      filename: 'ae.safetensors',
      sha256: 'cd'.repeat(32)
    })
  })
})
