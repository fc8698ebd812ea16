// The fill pod's price list, plan and image: list prices are dated and
// marked as estimates, PODPULL_CPU_PRICES replaces them (and a bad value is
// refused in one sentence), the plan's "in all" figure is price × expected
// hours, and the image comes from the target, then the environment, then the
// default.
import { afterEach, describe, expect, it } from 'vitest'
import {
  affordableFlavors,
  cpuFlavors,
  createPodRequest,
  expectedCost,
  fillImage,
  fillPlan
} from '../../src/main/runpod/fillPodRequest'
import { billSentence } from '../../src/main/runpod/fillPods'
import { FILL_IMAGE, PRICES_AS_OF } from '../../src/shared/runpod'

const volume = { id: 'vol1', name: 'models', sizeGb: 100, dataCenterId: 'EU-RO-1' }
const saved = process.env.PODPULL_CPU_PRICES
afterEach(() => {
  if (saved === undefined) delete process.env.PODPULL_CPU_PRICES
  else process.env.PODPULL_CPU_PRICES = saved
})

describe('the CPU price list', () => {
  it('is cheapest first, and PODPULL_CPU_PRICES replaces or adds flavors', () => {
    expect(cpuFlavors({}).map((f) => f.id)).toEqual(['cpu3c', 'cpu3g', 'cpu5c', 'cpu5g'])
    const changed = cpuFlavors({ PODPULL_CPU_PRICES: 'cpu3c=0.2, cpu9x=0.01' })
    expect(changed[0]).toEqual({ id: 'cpu9x', costPerHr: 0.01 })
    expect(changed.find((f) => f.id === 'cpu3c')?.costPerHr).toBe(0.2)
  })

  it('refuses a bad override in one sentence that shows the expected form', () => {
    for (const bad of ['cpu3c', 'cpu3c=free', 'cpu3c=0', '=0.1'])
      expect(() => cpuFlavors({ PODPULL_CPU_PRICES: bad })).toThrow(
        /^PODPULL_CPU_PRICES: ".*" is not flavor=USD_PER_HOUR \(e\.g\. cpu3c=0\.07\)\.$/
      )
  })

  it('keeps only flavors under the price cap, and names the cheapest when none fits', () => {
    expect(affordableFlavors(0.09).map((f) => f.id)).toEqual(['cpu3c', 'cpu3g'])
    expect(() => affordableFlavors(0.01)).toThrow(/the cheapest is ≈ \$0\.06\/h/)
  })
})

describe('the fill plan', () => {
  it('says its price is an estimate from the dated list', () => {
    const p = fillPlan(volume, undefined)
    expect(p).toMatchObject({ costPerHr: 0.06, priceEstimated: true, pricesAsOf: PRICES_AS_OF })
    expect(p.expected).toBeUndefined()
    expect(p.summary).toBe(
      'starts a CPU pod in EU-RO-1 with the volume "models", ≈ $0.06/h; removed when the downloads finish ' +
        `(estimated from PodPull's ${PRICES_AS_OF} price list; RunPod's quote replaces it once the pod exists)`
    )
  })

  it('with the bytes to fetch, gives price × expected hours', () => {
    const bytes = 90e9 // 30 min at the assumed 50 MB/s, plus 5 min to boot
    const p = fillPlan(volume, undefined, bytes)
    expect(p.expected?.hours).toBeCloseTo(35 / 60, 6)
    expect(p.expected?.cost).toBeCloseTo((35 / 60) * 0.06, 6)
    expect(p.expected).toEqual(expectedCost(bytes, 0.06))
    expect(p.summary).toContain('≈ $0.06/h (about 35 min for 90 GB, ≈ $0.035 in all)')
  })

  it('prices a bill without RunPod’s quote as an estimate', () => {
    expect(billSentence({ podId: 'p', ranMs: 14 * 60_000, cost: 0.02, estimated: true })).toBe(
      'CPU pod ran 14 min, ≈ $0.02 (estimated price)'
    )
    expect(billSentence({ podId: 'p', ranMs: 14 * 60_000, cost: 0.02 })).toBe(
      'CPU pod ran 14 min, ≈ $0.02'
    )
  })
})

describe('the fill image', () => {
  it("is the target's, else PODPULL_FILL_IMAGE, else RunPod's CPU base image", () => {
    expect(FILL_IMAGE).toBe('runpod/base:1.0.2-ubuntu2204')
    expect(fillImage(undefined, {})).toBe(FILL_IMAGE)
    expect(fillImage(undefined, { PODPULL_FILL_IMAGE: 'me/img:1' })).toBe('me/img:1')
    expect(fillImage('team/fill:2', { PODPULL_FILL_IMAGE: 'me/img:1' })).toBe('team/fill:2')
    const req = createPodRequest({
      volume,
      workspace: '/workspace',
      publicKey: 'ssh-ed25519 AAAA',
      maxPrice: undefined,
      image: 'team/fill:2'
    })
    expect(req.imageName).toBe('team/fill:2')
  })
})
