// The settings the fill pod's watchdog starts with: the target's max hours
// become its lifetime in seconds (fractions kept), PODPULL_FILL_MAX_SECONDS
// can only shorten that, and nothing of them — nor any key — is on the
// command line, which is fixed.
import { afterEach, describe, expect, it } from 'vitest'
import { watchdogLaunch, WATCHDOG_IDLE_S } from '../../src/main/runpod/fillWatchdog'

const names = ['PODPULL_FILL_MAX_SECONDS', 'PODPULL_FILL_IDLE_SECONDS'] as const
const saved = names.map((n) => process.env[n])
afterEach(() =>
  names.forEach((n, i) => {
    if (saved[i] === undefined) delete process.env[n]
    else process.env[n] = saved[i]
  })
)

const settingsOf = (maxHours: number) => {
  const launch = watchdogLaunch({
    workspace: '/workspace',
    podId: 'cpu1x',
    startedAt: 1e12,
    maxHours
  })
  return { launch, c: JSON.parse(launch.stdin.split('\n')[0]!) }
}

describe("the fill pod's watchdog settings", () => {
  it('turns the max hours into the lifetime in seconds, fractions included', () => {
    delete process.env.PODPULL_FILL_MAX_SECONDS
    delete process.env.PODPULL_FILL_IDLE_SECONDS
    expect(settingsOf(6).c).toMatchObject({
      workspace: '/workspace',
      pod_id: 'cpu1x',
      started_at: 1e9,
      max_seconds: 21_600,
      idle: WATCHDOG_IDLE_S
    })
    expect(settingsOf(0.5).c.max_seconds).toBe(1800)
    expect(settingsOf(0.0003).c.max_seconds).toBeCloseTo(1.08, 9)
  })

  it('lets PODPULL_FILL_MAX_SECONDS shorten the lifetime, never lengthen it', () => {
    process.env.PODPULL_FILL_MAX_SECONDS = '90'
    expect(settingsOf(6).c.max_seconds).toBe(90)
    expect(settingsOf(0.01).c.max_seconds).toBe(36)
    process.env.PODPULL_FILL_MAX_SECONDS = 'soon'
    expect(settingsOf(2).c.max_seconds).toBe(7200)
  })

  it('keeps every setting off the command line', () => {
    process.env.PODPULL_FILL_IDLE_SECONDS = '42'
    const { launch, c } = settingsOf(0.25)
    expect(c.idle).toBe(42)
    expect(launch.command).toBe(settingsOf(6).launch.command)
    expect(launch.command).not.toMatch(/cpu1x|workspace|900|42/)
  })
})
