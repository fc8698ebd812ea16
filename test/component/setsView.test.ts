// "Apply set…" in the Sets view: a bad set names its bad line; a good one is
// checked against several targets (what each lacks and has, a volume's fill
// pod cost), applied to all at once (the fill pod accepted, the pods told to
// stop when done), each target's progress shown side by side, and one summary
// at the end with what failed and why.
import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import SetsView from '../../src/renderer/components/SetsView.vue'
import type { SetPlanItem } from '../../src/shared/types'
import { parseModelSet, type ModelSet } from '../../src/shared/modelSet'
import { fakeBridge, record, snapshot, target } from './fixtures'
import { mountWith } from './mountApp'

let w: VueWrapper | null = null
afterEach(() => {
  w?.unmount()
  w = null
})

const SET = {
  format: 'podpull-model-set',
  version: 1,
  name: 'flux basics',
  models: [
    {
      source: { kind: 'url', url: 'https://example.com/a.safetensors' },
      folder: 'loras',
      name: 'a.safetensors'
    },
    {
      source: { kind: 'url', url: 'https://example.com/b.safetensors' },
      folder: 'vae',
      name: 'b.safetensors'
    }
  ]
}
const ssh = { kind: 'ssh' as const, host: 'h', port: 22, user: 'root', workspace: '/workspace' }
const targets = [
  target({ id: 'here', name: 'here' }),
  target({ id: 'pod', name: 'pod-a', config: { ...ssh, runpodPodId: 'p1' } }),
  target({
    id: 'vol',
    name: 'vol',
    connection: 'offline',
    config: { ...ssh, runpodVolume: { id: 'v1', name: 'v', dataCenterId: 'EU-RO-1' } },
    fillPod: null
  })
]
const item = (index: number, action: SetPlanItem['action']): SetPlanItem => ({
  index,
  folder: SET.models[index]!.folder,
  name: SET.models[index]!.name,
  action,
  url: SET.models[index]!.source.url,
  sha256: null,
  reason: null
})

async function paste(text: string): Promise<void> {
  await w!.get('[data-testid="set-paste"]').setValue(text)
  await w!.get('[data-testid="set-paste-load"]').trigger('click')
  await flushPromises()
}

describe('Apply set… in the Sets view', () => {
  it('names the bad entry and its line of a bad set', async () => {
    w = await mountWith(SetsView, fakeBridge(snapshot({ targets })))
    const bad = structuredClone(SET)
    bad.models[1]!.folder = '../etc'
    await paste(JSON.stringify(bad, null, 2))
    expect(w.get('[data-testid="set-problems"]').text()).toMatch(
      /models\[1\]\.folder: must be a folder inside models\/.*\(line \d+\)/
    )
    expect(w.find('[data-testid="set-plan"]').exists()).toBe(false)
  })

  it('checks, applies to several targets at once, shows each one’s progress and one summary', async () => {
    const fake = fakeBridge(snapshot({ targets }))
    fake.answer('planSet', ({ targetId }) =>
      targetId === 'here'
        ? [item(0, 'present'), item(1, 'fetch')]
        : [item(0, 'fetch'), item(1, 'fetch')]
    )
    fake.answer('runpodFill', ({ accept }) => ({
      plan: accept
        ? null
        : {
            volumeId: 'v1',
            volumeName: 'v',
            dataCenterId: 'EU-RO-1',
            cpuFlavorId: 'cpu3c',
            costPerHr: 0.06,
            priceEstimated: true,
            pricesAsOf: '2026-12',
            summary: 'starts a CPU pod in EU-RO-1, ≈ $0.06/h'
          },
      pod: null
    }))
    fake.answer('updateTarget', ({ id }) => targets.find((t) => t.id === id)!)
    fake.answer('applySet', ({ targetId }) => ({
      started:
        targetId === 'here'
          ? [{ index: 1, label: 'vae/b.safetensors', id: `${targetId}-b` }]
          : [
              { index: 0, label: 'loras/a.safetensors', id: `${targetId}-a` },
              { index: 1, label: 'vae/b.safetensors', id: `${targetId}-b` }
            ],
      skipped:
        targetId === 'here' ? [{ index: 0, label: 'loras/a.safetensors', why: 'present' }] : [],
      failed: []
    }))
    w = await mountWith(SetsView, fake)
    await paste(JSON.stringify(SET))
    expect(w.get('[data-testid="set-name"]').text()).toContain('flux basics — 2 models')
    for (const n of ['here', 'pod-a', 'vol'])
      await w.get(`[data-testid="set-target-${n}"]`).setValue(true)
    await w.get('[data-testid="set-plan"]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid="set-part-here"]').text()).toContain('lacks 1, has 1')
    expect(w.get('[data-testid="set-part-pod-a"]').text()).toContain('lacks 2, has 0')
    expect(w.get('[data-testid="set-part-vol"]').text()).toContain('≈ $0.06/h')
    expect(w.get('[data-testid="set-fill-cost"]').text()).toContain('1 volume target')
    // Nothing is created or started before the user confirms.
    expect(fake.calls.filter((c) => c.m === 'applySet')).toEqual([])
    expect(fake.calls.filter((c) => c.m === 'runpodFill').map((c) => c.a)).toEqual([
      { targetId: 'vol', accept: false }
    ])

    await w.get('[data-testid="set-stop-pods"]').setValue(true)
    await w.get('[data-testid="set-apply"]').trigger('click')
    await flushPromises()
    expect(
      fake.calls
        .filter((c) => c.m === 'applySet')
        .map((c) => (c.a as { targetId: string }).targetId)
        .sort()
    ).toEqual(['here', 'pod', 'vol'])
    expect(fake.calls.filter((c) => c.m === 'runpodFill').map((c) => c.a)).toContainEqual({
      targetId: 'vol',
      accept: true
    })
    // Only the RunPod pod is told to stop when done: not the local target, not the volume.
    expect(fake.calls.filter((c) => c.m === 'updateTarget').map((c) => c.a)).toEqual([
      { id: 'pod', patch: { stopWhenDone: true } }
    ])

    const rec = (id: string, targetId: string, over = {}) =>
      record({ id, targetId, fileSize: 1000, downloaded: 500, rev: 2, ...over })
    fake.emit('downloadsChanged', {
      targetId: 'pod',
      upserts: [rec('pod-a', 'pod'), rec('pod-b', 'pod', { downloaded: 1000, state: 'completed' })],
      removed: []
    })
    await flushPromises()
    const bar = (n: string) => w!.get(`[data-testid="set-part-${n}"] [role="progressbar"]`)
    expect(bar('pod-a').attributes('aria-valuenow')).toBe('75')
    expect(w.find('[data-testid="set-summary"]').exists()).toBe(false)

    fake.emit('downloadsChanged', {
      targetId: 'pod',
      upserts: [
        rec('pod-a', 'pod', { rev: 3, downloaded: 1000, state: 'completed' }),
        rec('here-b', 'here', { rev: 3, downloaded: 1000, state: 'completed' }),
        rec('vol-a', 'vol', { rev: 3, downloaded: 1000, state: 'completed' }),
        rec('vol-b', 'vol', { rev: 3, state: 'error', error: 'Disk full on the volume.' })
      ],
      removed: []
    })
    await flushPromises()
    expect(bar('pod-a').attributes('aria-valuenow')).toBe('100')
    const summary = w.get('[data-testid="set-summary"]')
    expect(summary.get('[data-testid="set-summary-here"]').text()).toContain(
      'complete — fetched 1, skipped 1 (present), failed 0'
    )
    expect(summary.get('[data-testid="set-summary-pod-a"]').text()).toContain('fetched 2')
    expect(summary.get('[data-testid="set-summary-vol"]').text()).toContain(
      'incomplete — fetched 1, skipped 0 (present), failed 1'
    )
    expect(summary.text()).toContain('vae/b.safetensors: Disk full on the volume.')
  })
})

describe('a set applied before, shown from the targets’ own records', () => {
  const MINE = 'c'.repeat(64)
  const base = parseModelSet(JSON.stringify(SET))
  const applied: ModelSet = {
    ...base,
    models: [
      ...base.models,
      {
        source: { kind: 'local' },
        folder: 'loras',
        name: 'mine.safetensors',
        sha256: MINE
      }
    ]
  }
  const push = (index: number): SetPlanItem => ({
    index,
    folder: 'loras',
    name: 'mine.safetensors',
    action: 'push',
    url: null,
    sha256: MINE,
    reason: null,
    from: '/home/me/ComfyUI/models/loras/mine.safetensors'
  })
  // Records as any process writes them (a terminal's `podpull sets apply`, a
  // run from before a restart): matched by folder and name, not by this window's ids.
  const onTarget = (targetId: string, folder: string, filename: string, over = {}) =>
    record({ id: `${targetId}-${filename}`, targetId, folder, filename, rev: 2, ...over })

  it('lists it, and shows each entry’s state on each target as the records change', async () => {
    const fake = fakeBridge(
      snapshot({
        targets,
        downloads: [
          onTarget('here', 'vae', 'b.safetensors', { state: 'completed', downloaded: 1000 }),
          onTarget('pod', 'loras', 'a.safetensors', { downloaded: 500 }),
          onTarget('pod', 'vae', 'b.safetensors', { state: 'paused', downloaded: 300 }),
          onTarget('pod', 'loras', 'mine.safetensors', { kind: 'upload', downloaded: 0 })
        ]
      })
    )
    fake.answer('appliedSets', () => [
      { key: 'k1', set: applied, targetIds: ['here', 'pod'], at: Date.UTC(2026, 11, 7, 20) }
    ])
    fake.answer('planSet', ({ targetId }) =>
      targetId === 'here'
        ? [item(0, 'present'), item(1, 'fetch'), push(2)]
        : [item(0, 'fetch'), item(1, 'fetch'), push(2)]
    )
    w = await mountWith(SetsView, fake)
    await flushPromises()
    const listed = w.get('[data-testid="set-applied-flux basics"]')
    expect(listed.text()).toContain('3 models on here, pod-a')
    await listed.get('button').trigger('click')
    await flushPromises()

    const part = (n: string) => w!.get(`[data-testid="set-part-${n}"]`)
    const stateOf = (n: string, i: number) =>
      part(n).get(`[data-testid="set-entry-${i}"]`).attributes('data-state')
    expect(part('here').get('[data-testid="set-part-state"]').text()).toContain(
      'has 2 of 3 · 1 missing'
    )
    expect(part('pod-a').get('[data-testid="set-part-state"]').text()).toContain(
      'has 0 of 3 · 2 running · 1 paused'
    )
    expect([0, 1, 2].map((i) => stateOf('pod-a', i))).toEqual(['running', 'paused', 'running'])
    expect(part('pod-a').get('[data-testid="set-entry-2"]').text()).toContain(
      'sent from this computer'
    )
    // 500 + 300 + 0 of 3000 bytes.
    const bar = (n: string) => part(n).get('[role="progressbar"]')
    expect(bar('pod-a').attributes('aria-valuenow')).toBe('26')
    // Looking is not applying.
    expect(fake.calls.filter((c) => c.m === 'applySet')).toEqual([])

    fake.emit('downloadsChanged', {
      targetId: 'pod',
      upserts: ['a.safetensors', 'b.safetensors', 'mine.safetensors'].map((n) =>
        onTarget('pod', n === 'b.safetensors' ? 'vae' : 'loras', n, {
          rev: 3,
          state: 'completed',
          downloaded: 1000
        })
      ),
      removed: []
    })
    await flushPromises()
    expect(part('pod-a').get('[data-testid="set-part-state"]').text()).toContain('has 3 of 3')
    expect(bar('pod-a').attributes('aria-valuenow')).toBe('100')
    expect([0, 1, 2].map((i) => stateOf('pod-a', i))).toEqual([
      'completed',
      'completed',
      'completed'
    ])
  })
})
