// The Models panel's Catalog tab: cards with size, contents and per-target
// marks, files ticked when installed, a set downloaded in one click. (The Installed tab is modelLibrary.test.ts.)
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'
import ModelsPanel from '../../src/renderer/components/ModelsPanel.vue'
import type { Catalog, InstalledModels } from '../../src/shared/types'
import { fakeBridge, snapshot, target } from './fixtures'
import { mountWith } from './mountApp'

// Only what the catalog's ticks look at: one of the set's two files is here.
const inventory = (): InstalledModels => ({
  models: [{ folder: 'vae', name: 'ae.safetensors', size: 2000, mtime: 0 }],
  partials: [],
  extraRoots: [],
  warning: null
})
const catalog: Catalog = {
  version: 1,
  sets: [
    {
      id: 's',
      name: 'Set',
      description: 'd',
      licence: 'l',
      gated: false,
      page: 'https://x',
      files: [
        {
          name: 'ae.safetensors',
          folder: 'vae',
          url: 'https://x/ae.safetensors',
          size: 2000,
          sha256: null
        },
        {
          name: 'unet.safetensors',
          folder: 'diffusion_models',
          url: 'https://x/unet.safetensors',
          size: 9,
          sha256: null
        }
      ]
    }
  ]
}

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

describe('Models panel', () => {
  it('catalog: cards with size, contents and per-target marks; a set downloads in one click', async () => {
    const fake = fakeBridge(
      snapshot({
        targets: [
          target({ id: 't1', name: 'studio' }),
          target({ id: 't2', name: 'pod' }),
          target({ id: 'off', name: 'offline' })
        ]
      })
    )
    fake.answer('getCatalog', () => catalog)
    fake.answer('listInstalled', (a) => {
      if (a.targetId === 'off') throw new Error('offline')
      return a.targetId === 't1' ? inventory() : { ...inventory(), models: [] }
    })
    fake.answer('startDownload', () => ({ id: 'j', outcome: 'started', path: '/p' }))
    w = await mountWith(ModelsPanel, fake)
    await w.get('[data-testid="models-tab-catalog"]').trigger('click')
    const card = () => w!.get('[data-testid="catalog-set-s"]')
    await vi.waitFor(() => expect(card().findAll('[data-mark]')).toHaveLength(2))
    expect(
      card()
        .findAll('[data-mark]')
        .map((c) => c.text())
    ).toEqual(['studio: partly (1 of 2)', 'pod: not installed'])
    expect(card().get('[data-testid="set-size"]').text()).toBe('2.0 KB')
    expect(card().get('[data-testid="set-contains"]').text()).toBe(
      '2 files: 1 vae · 1 diffusion_models'
    )
    const file = (name: string) =>
      card()
        .findAll('.catalog-files li')
        .find((li) => li.text().includes(name))!
    expect(file('vae/ae.safetensors').attributes('data-installed')).toBe('true')
    expect(file('vae/ae.safetensors').get('.mark').text()).toBe('✓')
    expect(file('vae/ae.safetensors').text()).toContain('(installed)')
    const unet = file('diffusion_models/unet.safetensors')
    expect(unet.attributes('data-installed')).toBe('false')
    expect(unet.get('.mark').text()).toBe('')
    // No "—" stands in for a size the catalog does not know.
    expect(card().get('.catalog-files').text()).not.toContain('—')
    await w
      .get('[data-testid="catalog"]')
      .findAll('button')
      .find((b) => b.text() === 'Download set to studio')!
      .trigger('click')
    await vi.waitFor(() =>
      expect(fake.calls.filter((c) => c.m === 'startDownload')).toHaveLength(2)
    )
    expect(fake.calls.filter((c) => c.m === 'startDownload').map((c) => c.a)).toEqual([
      {
        targetId: 't1',
        url: 'https://x/ae.safetensors',
        folder: 'vae',
        filename: 'ae.safetensors'
      },
      {
        targetId: 't1',
        url: 'https://x/unet.safetensors',
        folder: 'diffusion_models',
        filename: 'unet.safetensors'
      }
    ])
  })
})
