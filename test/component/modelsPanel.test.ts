// The Models panel's Installed and Catalog tabs: search, sha256 on demand,
// delete only after confirming, and catalog files ticked when installed.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import ModelsPanel from '../../src/renderer/components/ModelsPanel.vue'
import type { Catalog, InstalledModels } from '../../src/shared/types'
import { fakeBridge } from './fixtures'
import { mountWith } from './mountApp'

const inventory = (): InstalledModels => ({
  models: [
    {
      folder: 'loras',
      name: 'film.safetensors',
      size: 1000,
      mtime: 0,
      path: '/m/loras/film.safetensors'
    },
    { folder: 'vae', name: 'ae.safetensors', size: 2000, mtime: 0, path: '/m/vae/ae.safetensors' }
  ],
  partials: [
    {
      folder: 'checkpoints',
      name: 'big.safetensors',
      size: 10,
      mtime: 0,
      path: '/m/checkpoints/big.safetensors.part'
    }
  ],
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
  it('installed: search, sha256 on demand, delete after confirming', async () => {
    const fake = fakeBridge()
    let inv = inventory()
    fake.answer('listInstalled', () => inv)
    fake.answer('hashModel', () => ({ sha256: 'ef'.repeat(32) }))
    fake.answer('deleteModel', (a) => {
      inv = { ...inv, models: inv.models.filter((m) => m.path !== (a as { path: string }).path) }
    })
    w = await mountWith(ModelsPanel, fake)
    await w.get('[data-testid="models-tab-installed"]').trigger('click')
    await vi.waitFor(() => expect(w!.findAll('[data-testid="installed-row"]')).toHaveLength(2))
    expect(w.get('[data-testid="partial-row"]').text()).toContain('big.safetensors (unfinished)')

    await w.get('[data-testid="installed-search"]').setValue('film')
    const rows = w.findAll('[data-testid="installed-row"]')
    expect(rows).toHaveLength(1)
    await rows[0]!
      .findAll('button')
      .find((b) => b.text() === 'SHA-256')!
      .trigger('click')
    await flushPromises()
    expect(w.text()).toContain('ef'.repeat(32))
    expect(fake.calls.find((c) => c.m === 'hashModel')?.a).toEqual({
      targetId: 't1',
      path: '/m/loras/film.safetensors'
    })

    await rows[0]!
      .findAll('button')
      .find((b) => b.text() === 'Delete')!
      .trigger('click')
    expect(fake.calls.some((c) => c.m === 'deleteModel')).toBe(false)
    await w.get('[data-testid="confirm"]').trigger('click')
    await vi.waitFor(() => expect(w!.findAll('[data-testid="installed-row"]')).toHaveLength(0))
    expect(fake.calls.find((c) => c.m === 'deleteModel')?.a).toEqual({
      targetId: 't1',
      path: '/m/loras/film.safetensors'
    })
  })

  it('catalog: ticks installed files and downloads a whole set in one click', async () => {
    const fake = fakeBridge()
    fake.answer('getCatalog', () => catalog)
    fake.answer('listInstalled', () => inventory())
    fake.answer('startDownload', () => ({ id: 'j', outcome: 'started', path: '/p' }))
    w = await mountWith(ModelsPanel, fake)
    await w.get('[data-testid="models-tab-catalog"]').trigger('click')
    const file = (name: string) =>
      w!.findAll('[data-testid="catalog"] li').find((li) => li.text().includes(name))!
    await vi.waitFor(() =>
      expect(file('vae/ae.safetensors').attributes('data-installed')).toBe('true')
    )
    expect(file('vae/ae.safetensors').get('.mark').text()).toBe('✓')
    expect(file('vae/ae.safetensors').text()).toContain('(installed)')
    const unet = file('diffusion_models/unet.safetensors')
    expect(unet.attributes('data-installed')).toBe('false')
    expect(unet.get('.mark').text()).toBe('')
    // No "—" stands in for a size the catalog does not know.
    expect(w.get('.catalog-files').text()).not.toContain('—')
    await w
      .get('[data-testid="catalog"]')
      .findAll('button')
      .find((b) => b.text() === 'Download set')!
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
