// Pasting a Civitai or Hugging Face link shows what it is before starting:
// picture (from the page's own origin), name, kind, base model, size, folder,
// access and trigger words; a link that needs a token says which and how, and
// a link main cannot describe says why.
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import AddDownloadPanel from '../../src/renderer/components/AddDownloadPanel.vue'
import type { LinkPreview, Resolution } from '../../src/shared/types'
import { apiError, fakeBridge, previewOf } from './fixtures'
import { mountWith } from './mountApp'

const LINK = 'https://civitai.com/models/300?modelVersionId=301'
const civitai: Resolution = {
  input: LINK,
  source: 'civitai',
  title: 'Pixel Art XL · v1.1',
  page: 'https://civitai.com/models/300?modelVersionId=301',
  selected: 0,
  modelType: 'LORA',
  baseModel: 'SDXL 1.0',
  warning: null,
  files: [
    {
      url: 'https://civitai.com/api/download/models/301',
      filename: 'pixel-art-xl.safetensors',
      size: 170_543_052,
      sha256: 'ab'.repeat(32),
      suggestedFolder: 'loras',
      label: 'Model · pruned · fp16 · SafeTensor',
      primary: true
    }
  ]
}
const SRC = `/hub-image/${'e'.repeat(32)}`

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

async function paste(preview: () => LinkPreview | Promise<LinkPreview>, link = LINK) {
  const fake = fakeBridge()
  fake.answer('previewLink', preview)
  fake.answer('destinationFolder', (a) => ({ dir: `/c/models/${a.folder}`, extra: false }))
  w = await mountWith(AddDownloadPanel, fake, { debounceMs: 5 })
  await w.get('[data-testid="url-input"]').setValue(link)
  return fake
}

const text = (id: string) => w!.get(`[data-testid="${id}"]`).text().replace(/\s+/g, ' ')

describe('link preview', () => {
  it('shows a Civitai model with its picture, facts, folder and trigger words', async () => {
    const fake = await paste(() =>
      previewOf(civitai, {
        name: 'Pixel Art XL',
        version: 'v1.1',
        type: 'LoRA',
        baseModel: 'SDXL 1.0',
        triggerWords: ['pixel art', '8-bit'],
        images: [{ src: SRC, width: 832, height: 1216 }],
        hiddenImages: 2
      })
    )
    await vi.waitFor(() => expect(w!.find('[data-testid="link-preview"]').exists()).toBe(true))
    expect(fake.calls.find((c) => c.m === 'previewLink')?.a).toEqual({ input: LINK })
    const img = w!.get('[data-testid="link-preview-image"]')
    expect(img.attributes('src')).toBe(SRC)
    expect(img.attributes('alt')).toBe('Preview picture of Pixel Art XL')
    expect(text('link-preview-name')).toBe('Pixel Art XL · v1.1')
    expect(text('link-preview-type')).toBe('LoRA')
    expect(text('link-preview-base')).toBe('SDXL 1.0')
    expect(text('link-preview-size')).toBe('170.5 MB')
    expect(text('link-preview-folder')).toBe('loras')
    expect(text('link-preview-access')).toBe('Free to download')
    expect(w!.findAll('[data-testid="link-preview-words"] li').map((l) => l.text())).toEqual([
      'pixel art',
      '8-bit'
    ])
    expect(text('link-preview-hidden')).toBe('2 mature pictures are not shown.')
    // Where it lands on the target, from main.
    await vi.waitFor(() => expect(text('destination')).toBe('Saves to /c/models/loras'))
    // The folder the user types is the one the preview shows.
    await w!.get('[data-testid="folder-input"]').setValue('loras/pixel')
    expect(text('link-preview-folder')).toBe('loras/pixel')
  })

  it('says a gated file needs a token, and how to get access', async () => {
    const note =
      'black-forest-labs/FLUX.1-dev is gated: accept the licence at https://huggingface.co/black-forest-labs/FLUX.1-dev and set a Hugging Face token (HF_TOKEN, or Settings → Tokens).'
    await paste(
      () =>
        previewOf(
          { ...civitai, source: 'huggingface', title: 'black-forest-labs/FLUX.1-dev' },
          { gated: true, access: 'needs-token', accessNote: note, license: 'other' }
        ),
      'https://huggingface.co/black-forest-labs/FLUX.1-dev/blob/main/ae.safetensors'
    )
    await vi.waitFor(() => expect(w!.find('[data-testid="link-preview"]').exists()).toBe(true))
    expect(text('link-preview-access')).toBe('Needs a token')
    expect(w!.get('[data-testid="link-preview-access-note"]').attributes('role')).toBe('alert')
    expect(text('link-preview-access-note')).toBe(note)
    expect(w!.find('[data-testid="link-preview-image"]').exists()).toBe(false)
    expect(w!.find('[data-testid="link-preview-words"]').exists()).toBe(false)
  })

  it('says why a link cannot be described (not found, offline), and shows no stale preview', async () => {
    const fake = await paste(() => previewOf(civitai))
    await vi.waitFor(() => expect(w!.find('[data-testid="link-preview"]').exists()).toBe(true))
    fake.answer('previewLink', () => {
      throw apiError('not-found', 'Civitai has no model 999: check the link.')
    })
    await w!.get('[data-testid="url-input"]').setValue('https://civitai.com/models/999')
    expect(w!.find('[data-testid="link-preview"]').exists()).toBe(false)
    await vi.waitFor(() =>
      expect(text('add-download-notice')).toBe('Civitai has no model 999: check the link.')
    )
    fake.answer('previewLink', () => {
      throw apiError('network', 'Could not reach civitai.com: getaddrinfo ENOTFOUND')
    })
    await w!.get('[data-testid="url-input"]').setValue('https://civitai.com/models/998')
    await vi.waitFor(() =>
      expect(text('add-download-notice')).toMatch(/Could not reach civitai.com/)
    )
    expect(w!.find('[data-testid="link-preview"]').exists()).toBe(false)
  })
})
