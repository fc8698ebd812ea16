import { describe, expect, it } from 'vitest'
import {
  capAt,
  describeCap,
  expandSchedule,
  formatSchedule,
  parseSchedule,
  parseSpeed,
  speedText,
  type BandwidthLimits
} from '../../src/shared/bandwidth'

const nightFree: BandwidthLimits = {
  maxSpeed: 5e6,
  schedule: parseSchedule('01:00-07:00=unlimited'),
  timeZone: 'Europe/Berlin'
}

describe('bandwidth speeds', () => {
  it('reads decimal and binary units, MB by default, and unlimited', () => {
    expect(parseSpeed('5MB')).toBe(5e6)
    expect(parseSpeed('5 MB/s')).toBe(5e6)
    expect(parseSpeed('5')).toBe(5e6)
    expect(parseSpeed('750KB')).toBe(750e3)
    expect(parseSpeed('1.5MiB')).toBe(1.5 * 1024 * 1024)
    expect(parseSpeed('1G')).toBe(1e9)
    expect(parseSpeed('unlimited')).toBeNull()
    for (const v of [5e6, 750e3, 1.5 * 1024 * 1024, null]) expect(parseSpeed(speedText(v))).toBe(v)
  })

  it('refuses what is not a speed, saying how to write one', () => {
    expect(() => parseSpeed('fast')).toThrow(/"fast" is not a speed: write it like 5MB/)
    expect(() => parseSpeed('5TB')).toThrow(/not a speed/)
    expect(() => parseSpeed('-5MB')).toThrow(/not a speed/)
    expect(() => parseSpeed('1KB')).toThrow(/too slow to be a cap: the least is 10KB/)
  })
})

describe('bandwidth schedules', () => {
  it('parses windows, wrapping ones included, and prints them back', () => {
    const rules = parseSchedule('23:00-07:00=unlimited; 12:00-13:00=10MB')
    expect(rules).toEqual([
      { from: '23:00', to: '07:00', maxSpeed: null },
      { from: '12:00', to: '13:00', maxSpeed: 10e6 }
    ])
    expect(formatSchedule(rules)).toBe('23:00-07:00=unlimited, 12:00-13:00=10MB')
    expect(parseSchedule(formatSchedule(rules))).toEqual(rules)
    expect(parseSchedule('  ')).toEqual([])
  })

  it('refuses malformed, empty and overlapping windows with the window named', () => {
    expect(() => parseSchedule('01:00=unlimited')).toThrow(
      /"01:00=unlimited" is not a schedule window/
    )
    expect(() => parseSchedule('25:00-07:00=5MB')).toThrow(
      /"25:00" in "25:00-07:00=5MB" is not a time of day/
    )
    expect(() => parseSchedule('07:00-07:00=5MB')).toThrow(/starts and ends at the same time/)
    expect(() => parseSchedule('22:00-02:00=5MB, 01:00-03:00=unlimited')).toThrow(
      /windows 22:00-02:00 and 01:00-03:00 overlap/
    )
    expect(() => parseSchedule('01:00-07:00=quick')).toThrow(/"quick" is not a speed/)
  })

  it('gives the cap in force in the schedule time zone and when it changes', () => {
    // 02:30 in Berlin (winter, UTC+1) = 01:30 UTC: inside the free window until 07:00 Berlin.
    const night = capAt(nightFree, Date.UTC(2026, 11, 7, 1, 30))
    expect(night).toEqual({
      bytesPerSec: null,
      until: Date.UTC(2026, 11, 7, 6, 0),
      untilLabel: '07:00'
    })
    expect(describeCap(night, nightFree)).toBe('unlimited until 07:00')
    // 12:00 Berlin: capped until 01:00 the next day.
    const day = capAt(nightFree, Date.UTC(2026, 11, 7, 11, 0))
    expect(day).toEqual({
      bytesPerSec: 5e6,
      until: Date.UTC(2026, 11, 8, 0, 0),
      untilLabel: '01:00'
    })
    expect(describeCap(day, nightFree)).toBe('5.0 MB/s until 01:00')
    // The same instant in another zone is another time of day.
    expect(capAt(nightFree, Date.UTC(2026, 11, 7, 1, 30), 'America/New_York').bytesPerSec).toBe(5e6)
  })

  it('wraps past midnight (23:00-07:00) on both sides of it', () => {
    const limits: BandwidthLimits = {
      maxSpeed: 2e6,
      schedule: parseSchedule('23:00-07:00=unlimited'),
      timeZone: 'UTC'
    }
    expect(capAt(limits, Date.UTC(2026, 0, 1, 23, 30)).bytesPerSec).toBeNull()
    expect(capAt(limits, Date.UTC(2026, 0, 2, 6, 59)).bytesPerSec).toBeNull()
    expect(capAt(limits, Date.UTC(2026, 0, 2, 7, 0))).toMatchObject({
      bytesPerSec: 2e6,
      untilLabel: '23:00'
    })
    expect(capAt(limits, Date.UTC(2026, 0, 1, 22, 59)).until).toBe(Date.UTC(2026, 0, 1, 23, 0))
    expect(capAt(limits, Date.UTC(2026, 0, 1, 23, 0)).until).toBe(Date.UTC(2026, 0, 2, 7, 0))
  })

  it('finds the right instant across a daylight-saving change', () => {
    // Berlin springs forward on 2026-03-29 (02:00 → 03:00): 07:00 that day is 05:00 UTC.
    expect(capAt(nightFree, Date.UTC(2026, 2, 29, 0, 30)).until).toBe(Date.UTC(2026, 2, 29, 5, 0))
    const windows = expandSchedule(nightFree, Date.UTC(2026, 2, 28, 12, 0), 2)
    expect(windows).toContainEqual([
      Date.UTC(2026, 2, 29, 0, 0) / 1000,
      Date.UTC(2026, 2, 29, 5, 0) / 1000,
      null
    ])
    expect(windows).toContainEqual([
      Date.UTC(2026, 2, 28, 0, 0) / 1000,
      Date.UTC(2026, 2, 28, 6, 0) / 1000,
      null
    ])
  })

  it('has no cap to describe when nothing is capped', () => {
    expect(
      describeCap(capAt({ maxSpeed: null, schedule: [] }, 0), { maxSpeed: null, schedule: [] })
    ).toBeNull()
    const flat = { maxSpeed: 3e6, schedule: [] }
    expect(describeCap(capAt(flat, 0), flat)).toBe('3.0 MB/s')
  })
})
