// The content index in the dashboard: the target card shows background
// hashing progress; the model library's Duplicates panel keeps one copy and
// links the others, undo-able until confirmed; a sha256 or AutoV2 typed in
// the search box can be looked up on every target and on Civitai.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import ModelsPanel from '../../src/renderer/components/ModelsPanel.vue'
import TargetsPanel from '../../src/renderer/components/TargetsPanel.vue'
import type { DuplicateGroup, HashLookup, KeepOnePending } from '../../src/shared/types'
import { fakeBridge, snapshot, target } from './fixtures'
import { mountWith } from './mountApp'

const SHA = 'ab12cd34ef'.padEnd(64, '0')
let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

const group = (): DuplicateGroup => ({
  sha256: SHA,
  size: 2000,
  reclaimable: 2000,
  files: [
    { folder: 'loras', name: 'a.safetensors', path: '/m/loras/a.safetensors' },
    { folder: 'checkpoints', name: 'b.safetensors', path: '/m/checkpoints/b.safetensors' }
  ]
})

async function openLibrary() {
  const fake = fakeBridge(snapshot())
  fake.answer('listInstalled', () => ({
    models: group().files.map((f, i, all) => ({
      ...f,
      size: 2000,
      mtime: 0,
      sha256: SHA,
      sameAs: [`${all[1 - i]!.folder}/${all[1 - i]!.name}`]
    })),
    partials: [],
    extraRoots: [],
    warning: null
  }))
  w = await mountWith(ModelsPanel, fake)
  await w.get('[data-testid="models-tab-installed"]').trigger('click')
  await vi.waitFor(() => expect(w!.findAll('[data-testid="installed-row"]')).toHaveLength(2))
  return fake
}

describe('background hashing on the target card', () => {
  it('shows "hashing N of M files" while it runs, and nothing after', async () => {
    const fake = fakeBridge(
      snapshot({
        targets: [
          target({
            id: 't1',
            name: 'studio',
            hashing: { done: 12, total: 40, current: '/m/loras/x.safetensors' }
          })
        ]
      })
    )
    w = await mountWith(TargetsPanel, fake)
    const line = w.get('[data-testid="target-hashing"]')
    expect(line.text()).toBe('hashing 12 of 40 files')
    expect(line.attributes('title')).toBe('/m/loras/x.safetensors')
    fake.emit('targetsChanged', [target({ id: 't1', name: 'studio', hashing: null })])
    await flushPromises()
    expect(w.find('[data-testid="target-hashing"]').exists()).toBe(false)
  })
})

describe('duplicates panel', () => {
  it('keeps the ticked copy, then undo or confirm the change', async () => {
    const fake = await openLibrary()
    let pending: KeepOnePending[] = []
    let confirmed = false
    fake.answer('listDuplicates', () => (pending.length || confirmed ? [] : [group()]))
    fake.answer('pendingKeepOnes', () => pending)
    fake.answer('keepOne', (a) => {
      const { keep } = a as { keep: string }
      const other = group().files.find((f) => f.path !== keep)!.path
      pending = [
        { op: 'a1b2c3d4e5f6', sha256: SHA, kept: keep, linked: [other], reclaimable: 2000 }
      ]
      return pending[0]!
    })
    fake.answer('settleKeepOne', (a) => {
      pending = []
      confirmed = !(a as { undo: boolean }).undo
      return (a as { undo: boolean }).undo
        ? { restored: ['/m/loras/a.safetensors'], reclaimed: 0 }
        : { restored: [], reclaimed: 2000 }
    })
    expect(w!.get('[data-testid="show-duplicates"]').text()).toBe('Duplicates (1)')
    await w!.get('[data-testid="show-duplicates"]').trigger('click')
    await vi.waitFor(() => expect(w!.findAll('[data-testid="dup-group"]')).toHaveLength(1))
    const g = w!.get('[data-testid="dup-group"]')
    expect(g.text()).toContain('2 copies of 2.0 KB · 2.0 KB to give back · AB12CD34EF')
    await g.findAll('input[type="radio"]')[1]!.setValue(true) // keep checkpoints/b
    await g.get('[data-testid="dup-keep-one"]').trigger('click')
    await vi.waitFor(() => expect(w!.findAll('[data-testid="dup-pending"]')).toHaveLength(1))
    expect(fake.calls.find((c) => c.m === 'keepOne')?.a).toEqual({
      targetId: 't1',
      sha256: SHA,
      keep: '/m/checkpoints/b.safetensors'
    })
    const p = w!.get('[data-testid="dup-pending"]')
    expect(p.text()).toContain(
      'Kept checkpoints/b.safetensors; loras/a.safetensors now links to it.'
    )
    await p
      .findAll('button')
      .find((b) => b.text() === 'Undo')!
      .trigger('click')
    await vi.waitFor(() =>
      expect(w!.get('[data-testid="dup-info"]').text()).toBe('Undone: 1 file put back.')
    )
    expect(fake.calls.find((c) => c.m === 'settleKeepOne')?.a).toEqual({
      targetId: 't1',
      op: 'a1b2c3d4e5f6',
      undo: true
    })
    await w!.get('[data-testid="dup-keep-one"]').trigger('click')
    await vi.waitFor(() => expect(w!.findAll('[data-testid="dup-pending"]')).toHaveLength(1))
    const confirm = w!
      .get('[data-testid="dup-pending"]')
      .findAll('button')
      .find((b) => b.text().startsWith('Confirm'))!
    expect(confirm.text()).toBe('Confirm · free 2.0 KB')
    await confirm.trigger('click')
    await vi.waitFor(() =>
      expect(w!.get('[data-testid="dup-info"]').text()).toBe('Confirmed: 2.0 KB given back.')
    )
    expect(w!.find('[data-testid="dup-none"]').exists()).toBe(true)
  })
})

describe('find by hash', () => {
  it('a sha256 or AutoV2 in the search box is looked up on every target and Civitai', async () => {
    const fake = await openLibrary()
    const answer: HashLookup = {
      hash: 'ab12cd34ef',
      places: [
        {
          targetId: 't1',
          targetName: 'studio',
          files: [{ folder: 'loras', name: 'a.safetensors', size: 2000, mtime: 0 }],
          error: null
        },
        { targetId: 'p1', targetName: 'pod', files: [], error: 'pod is offline.' }
      ],
      civitai: {
        modelId: 310,
        modelName: 'Grain Look',
        modelType: 'LORA',
        versionId: 410,
        versionName: 'v2',
        baseModel: 'SDXL 1.0',
        fileName: 'grain.safetensors',
        page: 'https://civitai.com/models/310?modelVersionId=410'
      },
      civitaiError: null
    }
    fake.answer('findByHash', () => answer)
    const search = w!.get('[data-testid="installed-search"]')
    await search.setValue('film')
    expect(w!.find('[data-testid="hash-lookup"]').exists()).toBe(false)
    await search.setValue('AB12CD34EF')
    await w!.get('[data-testid="hash-lookup-go"]').trigger('click')
    await vi.waitFor(() =>
      expect(w!.find('[data-testid="hash-lookup-result"]').exists()).toBe(true)
    )
    expect(fake.calls.find((c) => c.m === 'findByHash')?.a).toEqual({ hash: 'AB12CD34EF' })
    const text = w!.get('[data-testid="hash-lookup-result"]').text()
    expect(text).toContain('studio: loras/a.safetensors')
    expect(text).toContain('pod: pod is offline.')
    const civ = w!.get('[data-testid="hash-lookup-civitai"]')
    expect(civ.get('a').attributes('href')).toBe(answer.civitai!.page)
    expect(civ.text()).toContain('Grain Look · v2')
    expect(civ.text()).toContain('LORA, SDXL 1.0')
  })
})
