// The model library (Models → Installed): folder tree with counts and sizes,
// sortable table, search by name and by hash, multi-select delete after
// confirming, sha256 on demand, .part leftovers resumed or cleaned up, and the
// keyboard (arrows and Enter in the tree and the table).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import ModelsPanel from '../../src/renderer/components/ModelsPanel.vue'
import type { InstalledModels } from '../../src/shared/types'
import type { ModelSet } from '../../src/shared/modelSet'
import { useSetsStore } from '../../src/renderer/stores/sets'
import { fakeBridge, record, snapshot, target } from './fixtures'
import { mountWith } from './mountApp'

const SHA = 'ab12cd34ef'.padEnd(64, '0')
const DAY = 86400
const inventory = (): InstalledModels => ({
  models: [
    {
      folder: 'loras',
      name: 'film.safetensors',
      size: 1000,
      mtime: 3 * DAY,
      path: '/m/loras/film.safetensors'
    },
    {
      folder: 'loras/flux',
      name: 'anime.safetensors',
      size: 3000,
      mtime: 1 * DAY,
      path: '/m/loras/flux/anime.safetensors',
      sha256: SHA
    },
    {
      folder: 'vae',
      name: 'ae.safetensors',
      size: 2000,
      mtime: 2 * DAY,
      path: '/m/vae/ae.safetensors',
      sha256: 'ff'.repeat(32),
      sameAs: ['vae/copy.safetensors']
    }
  ],
  partials: [
    {
      folder: 'checkpoints',
      name: 'big.safetensors',
      size: 10,
      mtime: 0,
      path: '/m/checkpoints/big.safetensors.part'
    },
    {
      folder: 'checkpoints',
      name: 'gone.safetensors',
      size: 20,
      mtime: 0,
      path: '/m/checkpoints/gone.safetensors.part'
    }
  ],
  extraRoots: [],
  warning: null
})

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

async function openLibrary(inv: () => InstalledModels = inventory, withPod = false) {
  const pod = target({
    id: 'p1',
    name: 'gpu pod',
    config: { kind: 'ssh', host: 'h', port: 22, user: 'root', workspace: '/workspace' }
  })
  const fake = fakeBridge(
    snapshot({
      targets: [target({ id: 't1', name: 'studio' }), ...(withPod ? [pod] : [])],
      downloads: [
        record({
          id: 'a',
          state: 'completed',
          path: '/m/loras/flux/anime.safetensors',
          source: 'civitai'
        }),
        record({ id: 'b', state: 'paused', path: '/m/checkpoints/big.safetensors' })
      ]
    })
  )
  fake.answer('listInstalled', inv)
  w = await mountWith(ModelsPanel, fake)
  await w.get('[data-testid="models-tab-installed"]').trigger('click')
  await vi.waitFor(() => expect(w!.findAll('[data-testid="installed-row"]')).toHaveLength(3))
  return fake
}
const names = (): string[] =>
  w!.findAll('[data-testid="installed-row"] td.name').map((td) => td.text())
const folderItem = (path: string) => w!.get(`[role="treeitem"][data-folder="${path}"]`)

describe('Model library', () => {
  it('folder tree: counts and sizes per folder, a click shows that folder', async () => {
    await openLibrary()
    expect(folderItem('').text()).toContain('3 · 6.0 KB')
    expect(folderItem('loras').text()).toContain('2 · 4.0 KB')
    expect(folderItem('loras/flux').text()).toContain('1 · 3.0 KB')
    expect(folderItem('loras/flux').attributes('aria-level')).toBe('3')
    expect(w!.get('[data-testid="disk-use"]').text()).toBe('3 files · 6.0 KB · 5.0 GB free')
    await folderItem('loras').trigger('click')
    expect(names()).toEqual(['anime.safetensors', 'film.safetensors'])
    expect(folderItem('loras').attributes('aria-selected')).toBe('true')
  })

  it('table: columns sort both ways; source and hash state in words', async () => {
    await openLibrary()
    expect(names()).toEqual(['ae.safetensors', 'anime.safetensors', 'film.safetensors'])
    await w!.get('[data-testid="sort-size"]').trigger('click')
    expect(names()).toEqual(['anime.safetensors', 'ae.safetensors', 'film.safetensors'])
    expect(w!.get('th.size').attributes('aria-sort')).toBe('descending')
    await w!.get('[data-testid="sort-size"]').trigger('click')
    expect(names()).toEqual(['film.safetensors', 'ae.safetensors', 'anime.safetensors'])
    await w!.get('[data-testid="sort-mtime"]').trigger('click')
    expect(names()).toEqual(['film.safetensors', 'ae.safetensors', 'anime.safetensors'])
    const row = (n: string) =>
      w!.findAll('[data-testid="installed-row"]').find((r) => r.text().includes(n))!
    expect(row('anime').get('td.source').text()).toBe('Civitai')
    expect(row('film').get('td.source').text()).toBe('Found on disk')
    expect(row('anime').get('td.mtime').text()).toBe('1970-01-02')
    expect(row('anime').get('td.hash').text()).toBe('AB12CD34EF')
    expect(row('ae').get('td.hash').text()).toContain('duplicate')
    expect(row('ae').get('td.hash').text()).toContain('same as vae/copy.safetensors')
  })

  it('search: by a part of the name, by sha256 or its AutoV2 prefix; duplicates only', async () => {
    await openLibrary()
    const search = w!.get('[data-testid="installed-search"]')
    await search.setValue('FILM')
    expect(names()).toEqual(['film.safetensors'])
    await search.setValue('AB12CD34EF')
    expect(names()).toEqual(['anime.safetensors'])
    await search.setValue(SHA)
    expect(names()).toEqual(['anime.safetensors'])
    await search.setValue('')
    await w!.get('[data-testid="only-duplicates"]').setValue(true)
    expect(names()).toEqual(['ae.safetensors'])
    await w!.get('[data-testid="only-duplicates"]').setValue(false)
    await search.setValue('nothing')
    expect(w!.get('[data-testid="no-models"]').text()).toBe('No model files here.')
  })

  it('multi-select: delete the ticked files only after confirming', async () => {
    let inv = inventory()
    const fake = await openLibrary(() => inv)
    fake.answer('deleteModel', (a) => {
      inv = { ...inv, models: inv.models.filter((m) => m.path !== a.path) }
    })
    expect(w!.get('[data-testid="delete-selected"]').attributes('disabled')).toBeDefined()
    const boxes = w!.findAll('[data-testid="installed-row"] input[type="checkbox"]')
    await boxes[0]!.setValue(true)
    await boxes[2]!.setValue(true)
    expect(w!.get('[data-testid="selection-bar"]').text()).toContain('2 selected · 3.0 KB')
    await w!.get('[data-testid="delete-selected"]').trigger('click')
    expect(w!.get('[role="dialog"]').text()).toContain('Delete 2 files (3.0 KB)?')
    expect(fake.calls.some((c) => c.m === 'deleteModel')).toBe(false)
    await w!.get('[data-testid="confirm"]').trigger('click')
    await vi.waitFor(() => expect(names()).toEqual(['anime.safetensors']))
    expect(fake.calls.filter((c) => c.m === 'deleteModel').map((c) => c.a)).toEqual([
      { targetId: 't1', path: '/m/vae/ae.safetensors' },
      { targetId: 't1', path: '/m/loras/film.safetensors' }
    ])
    expect(w!.get('[data-testid="selection-bar"]').text()).toContain('Tick files')
  })

  it('"Send to pod": the ticked files of this computer are pushed to the chosen pod', async () => {
    const fake = await openLibrary(inventory, true)
    fake.answer('pushFile', (a) => ({ id: 'u1', outcome: 'started', path: `/pod/${a.filename}` }))
    const boxes = w!.findAll('[data-testid="installed-row"] input[type="checkbox"]')
    await boxes[0]!.setValue(true)
    expect(w!.get('[data-testid="send-to-pod"]').text()).toContain('gpu pod')
    await w!.get('[data-testid="send-selected"]').trigger('click')
    await flushPromises()
    expect(fake.calls.filter((c) => c.m === 'pushFile').map((c) => c.a)).toEqual([
      {
        targetId: 'p1',
        file: '/m/vae/ae.safetensors',
        folder: 'vae',
        filename: 'ae.safetensors'
      }
    ])
    expect(w!.get('[data-testid="send-to"]').text()).toContain('Sending 1 file to gpu pod')
  })

  it('no "Send to pod" without a pod target', async () => {
    await openLibrary()
    expect(w!.find('[data-testid="send-to"]').exists()).toBe(false)
  })

  it('sha256 on demand for a file not hashed yet', async () => {
    const fake = await openLibrary()
    fake.answer('hashModel', () => ({ sha256: 'ef'.repeat(32) }))
    await w!.get('[data-testid="hash-button"]').trigger('click')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'hashModel')?.a).toEqual({
      targetId: 't1',
      path: '/m/loras/film.safetensors'
    })
    const film = w!.findAll('[data-testid="installed-row"]').find((r) => r.text().includes('film'))!
    expect(film.get('td.hash').text()).toBe('EFEFEFEFEF')
  })

  it('.part leftovers: resume the one a download owns, clean up after confirming', async () => {
    let inv = inventory()
    const fake = await openLibrary(() => inv)
    fake.answer('resumeDownload', () => undefined)
    fake.answer('deleteModel', (a) => {
      inv = { ...inv, partials: inv.partials.filter((p) => p.path !== a.path) }
    })
    const parts = w!.findAll('[data-testid="partial-row"]')
    expect(parts[0]!.text()).toContain('checkpoints/big.safetensors (unfinished)')
    await parts[0]!
      .findAll('button')
      .find((b) => b.text() === 'Resume')!
      .trigger('click')
    expect(fake.calls.find((c) => c.m === 'resumeDownload')?.a).toEqual({ targetId: 't1', id: 'b' })
    expect(parts[1]!.text()).toContain('no download to resume')
    await parts[1]!
      .findAll('button')
      .find((b) => b.text() === 'Clean up')!
      .trigger('click')
    expect(w!.get('[role="dialog"]').text()).toContain('gone.safetensors.part')
    await w!.get('[data-testid="confirm"]').trigger('click')
    await vi.waitFor(() => expect(w!.findAll('[data-testid="partial-row"]')).toHaveLength(1))
    expect(fake.calls.find((c) => c.m === 'deleteModel')?.a).toEqual({
      targetId: 't1',
      path: '/m/checkpoints/gone.safetensors.part'
    })
  })

  it('keyboard: arrows and Enter in the folder tree and in the table', async () => {
    await openLibrary()
    const root = folderItem('').element as HTMLElement
    root.focus()
    await folderItem('').trigger('keydown', { key: 'ArrowDown' })
    expect(document.activeElement).toBe(folderItem('loras').element)
    await folderItem('loras').trigger('keydown', { key: 'End' })
    expect(document.activeElement).toBe(folderItem('vae').element)
    await folderItem('vae').trigger('keydown', { key: 'Enter' })
    expect(names()).toEqual(['ae.safetensors'])
    await folderItem('vae').trigger('keydown', { key: 'Home' })
    await folderItem('').trigger('keydown', { key: ' ' })
    expect(names()).toHaveLength(3)

    const boxes = () => w!.findAll('[data-testid="installed-row"] input[type="checkbox"]')
    ;(boxes()[0]!.element as HTMLElement).focus()
    await boxes()[0]!.trigger('keydown', { key: 'ArrowDown' })
    expect(document.activeElement).toBe(boxes()[1]!.element)
    await boxes()[1]!.trigger('keydown', { key: 'Enter' })
    expect((boxes()[1]!.element as HTMLInputElement).checked).toBe(true)
    expect(w!.get('[data-testid="selection-bar"]').text()).toContain('1 selected')
  })
})

describe('"Add to set…" from the selection', () => {
  const exported = (name: string, paths: string[]): ModelSet => ({
    format: 'podpull-model-set',
    version: 1,
    name,
    models: paths.map((p) =>
      p.includes('anime')
        ? {
            source: { kind: 'civitai', versionId: 7 },
            folder: 'loras/flux',
            name: 'anime.safetensors',
            size: 3000,
            sha256: SHA
          }
        : {
            source: { kind: 'local' },
            folder: p.split('/')[2]!,
            name: p.split('/').pop()!,
            size: 1000,
            sha256: 'cd'.repeat(32)
          }
    )
  })
  const before: ModelSet = {
    format: 'podpull-model-set',
    version: 1,
    name: 'flux kit',
    models: [exported('x', ['/m/loras/flux/anime.safetensors']).models[0]!]
  }

  it('puts the ticked files into a new set, or into one applied before, and opens it in Sets', async () => {
    const fake = await openLibrary()
    fake.answer('appliedSets', () => [{ key: 'k', set: before, targetIds: ['t1'], at: 0 }])
    fake.answer('exportSet', (a) => exported(a.name ?? 'studio models', a.paths ?? []))
    const sets = useSetsStore()
    const boxes = w!.findAll('[data-testid="installed-row"] input[type="checkbox"]')
    expect(w!.get('[data-testid="add-to-set"]').attributes('disabled')).toBeDefined()
    await boxes[0]!.setValue(true) // ae
    await boxes[1]!.setValue(true) // anime
    await w!.get('[data-testid="add-to-set"]').trigger('click')
    await flushPromises()
    const dialog = () => w!.get('[data-testid="add-to-set-dialog"]')
    expect(dialog().text()).toContain('Add 2 files to a set')
    expect(dialog().text()).toContain('flux kit (applied before)')

    // A new set, named by the user.
    await dialog().get('[data-testid="add-to-set-new"]').setValue(true)
    await dialog().get('[data-testid="add-to-set-name"]').setValue('my picks')
    await dialog().get('form').trigger('submit')
    await flushPromises()
    expect(fake.calls.find((c) => c.m === 'exportSet')?.a).toEqual({
      targetId: 't1',
      paths: ['/m/vae/ae.safetensors', '/m/loras/flux/anime.safetensors'],
      name: 'my picks'
    })
    expect(dialog().get('[data-testid="add-to-set-result"]').text()).toBe(
      'Added 2 files to “my picks”; it has 2 in all.'
    )
    expect(sets.set?.name).toBe('my picks')
    expect(sets.set?.models.map((m) => m.name)).toEqual(['ae.safetensors', 'anime.safetensors'])
    expect(dialog().get('[data-testid="add-to-set-save"]').attributes('download')).toBe(
      'my-picks.podpull.json'
    )
    const shown = sets.revealed
    await dialog().get('[data-testid="add-to-set-show"]').trigger('click')
    expect(sets.revealed).toBe(shown + 1)
    expect(w!.find('[data-testid="add-to-set-dialog"]').exists()).toBe(false)

    // Into the set applied before: what it has already is not added twice.
    await w!.get('[data-testid="add-to-set"]').trigger('click')
    await flushPromises()
    await dialog()
      .findAll('input[type="radio"]')
      .find((r) => r.element.parentElement?.textContent?.includes('flux kit'))!
      .setValue(true)
    await dialog().get('form').trigger('submit')
    await flushPromises()
    expect(dialog().get('[data-testid="add-to-set-result"]').text()).toBe(
      'Added 1 file to “flux kit” (1 was in it already); it has 2 in all.'
    )
    expect(sets.set?.models.map((m) => m.name)).toEqual(['anime.safetensors', 'ae.safetensors'])
  })
})
