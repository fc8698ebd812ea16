// Downloads grouped by target: the summary in words (a wait the engine
// explains counts as waiting), a network volume's fill pod or what its
// downloads wait for, and downloads of a removed target kept apart.
import { describe, expect, it } from 'vitest'
import { fillPodWords, groupByTarget, groupSummary } from '../../src/renderer/downloadGroups'
import { record, target } from './fixtures'

const volume = (fillPod: Parameters<typeof target>[0]['fillPod']) =>
  target({
    id: 'v',
    name: 'volume',
    config: {
      kind: 'ssh',
      host: '',
      port: 22,
      user: 'root',
      workspace: '/workspace',
      runpodVolume: { id: 'vol1', name: 'models', dataCenterId: 'EU-RO-1' }
    },
    fillPod
  })

describe('download groups', () => {
  it('summarises a target in words, naming rate-limit waits', () => {
    const rows = [
      record({ id: 'a' }),
      record({ id: 'b', state: 'queued', notice: 'rate-limited by civitai.com, going on in 20 s' }),
      record({ id: 'c', state: 'completed' })
    ]
    expect(groupSummary(rows)).toBe('1 downloading · 1 queued · 1 completed · 1 waiting')
  })

  it("says which pod a volume's downloads run on, or that they wait for one", () => {
    const queued = [record({ id: 'a', targetId: 'v', state: 'queued' })]
    expect(fillPodWords(volume(null), queued)).toMatch(/^Waiting for a pod: no pod has this volume/)
    expect(fillPodWords(volume(null), [])).toBeNull()
    expect(
      fillPodWords(
        volume({ podId: 'cpu1', ours: true, status: 'RUNNING', startedAt: 0, costPerHr: 0.1 }),
        queued
      )
    ).toBe(
      "Running on PodPull's CPU fill pod cpu1 (running); it is removed when these downloads finish."
    )
    expect(
      fillPodWords(
        volume({ podId: 'gpu', ours: false, status: 'RUNNING', startedAt: 0, costPerHr: null }),
        queued
      )
    ).toBe('Running on your pod gpu, which has the volume mounted.')
    expect(fillPodWords(target({ id: 't1' }), queued)).toBeNull()
  })

  it("groups in the targets' order, completed apart, a removed target's last", () => {
    const groups = groupByTarget(
      [
        record({ id: 'x', targetId: 'gone' }),
        record({ id: 'a', targetId: 't2' }),
        record({ id: 'b', targetId: 't1', state: 'completed' }),
        record({ id: 'c', targetId: 't1', state: 'cancelled' })
      ],
      [target({ id: 't1', name: 'one' }), target({ id: 't2', name: 'two' }), target({ id: 't3' })]
    )
    expect(groups.map((g) => [g.name, g.open.map((r) => r.id), g.done.map((r) => r.id)])).toEqual([
      ['one', ['c'], ['b']],
      ['two', ['a'], []],
      ['Removed target', ['x'], []]
    ])
  })
})
