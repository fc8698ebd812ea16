import { expect, it } from 'vitest'
import { BandwidthLimiter } from '../../src/main/engine/bandwidthLimiter'

it('costs nothing while unlimited and counts nothing owed from that time', () => {
  let t = 0
  const l = new BandwidthLimiter(() => t)
  expect(l.take(50e6)).toBeUndefined()
  l.setRate(1000)
  t = 10
  // A 50-byte burst (0.05 s of the cap) is allowed; the unlimited 50 MB before is not owed.
  expect(l.take(10)).toBeUndefined()
  expect(l.take(1000)).toBeInstanceOf(Promise)
  expect(l.waiting).toBe(1)
  l.setRate(null)
  expect(l.waiting).toBe(0)
})

it('queues readers in the order they read, each until the credit reaches its bytes', async () => {
  let t = 0
  const l = new BandwidthLimiter(() => t)
  l.setRate(1e6)
  const woke: string[] = []
  void l.take(1e6)!.then(() => woke.push('first'))
  void l.take(1e6)!.then(() => woke.push('second'))
  expect(l.waiting).toBe(2)
  t = 1000 // one second of credit pays the first read, not the second
  l.setRate(1e6 + 1) // a change re-evaluates at once
  await Promise.resolve()
  expect(woke).toEqual(['first'])
  expect(l.waiting).toBe(1)
  l.setRate(null)
  await Promise.resolve()
  expect(woke).toEqual(['first', 'second'])
})
