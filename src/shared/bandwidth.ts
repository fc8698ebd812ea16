// A target's bandwidth limits: one cap for the whole target and an optional
// daily schedule in the user's time zone ("unlimited 01:00–07:00, 5 MB/s
// otherwise"). Parsed from what a user types (CLI, settings dialog), evaluated
// for "now" by the local engine every second, and expanded into absolute
// windows for the pod helper (which has no time-zone data to rely on).
import { formatSpeed } from './format'

/** One window of the day: [from, to) in local wall time, "HH:MM"; `to` before `from` wraps past midnight. */
export interface BandwidthRule {
  from: string
  to: string
  /** Bytes/s in this window; null = unlimited. */
  maxSpeed: number | null
}

export interface BandwidthLimits {
  /** Bytes/s outside every window; null = unlimited. */
  maxSpeed: number | null
  schedule: BandwidthRule[]
  /** IANA zone the schedule's times are in (the user's, when it was set). */
  timeZone?: string
}

export const UNLIMITED: BandwidthLimits = { maxSpeed: null, schedule: [] }

/** The cap in force at one moment and when it next changes. */
export interface CapInForce {
  /** Bytes/s; null = unlimited. */
  bytesPerSec: number | null
  /** Epoch ms of the next change, null when none is scheduled. */
  until: number | null
  /** The local time of that change, "01:00". */
  untilLabel: string | null
}

export class BandwidthInputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BandwidthInputError'
  }
}

const UNIT: Record<string, number> = {
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3
}
/** The smallest cap taken seriously: below it a download would look hung. */
export const MIN_SPEED = 10_000

/** "5MB", "5 MB/s", "750KB", "1.5MiB", "unlimited" → bytes/s (null = unlimited). */
export function parseSpeed(text: string): number | null {
  const t = text.trim().toLowerCase()
  if (t === 'unlimited' || t === 'none' || t === 'off') return null
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?(?:\/s|ps)?$/.exec(t)
  const unit = m ? UNIT[m[2] ?? 'mb'] : undefined
  if (!m || unit === undefined)
    throw new BandwidthInputError(
      `"${text}" is not a speed: write it like 5MB (MB/s), 750KB, 1.5MiB or unlimited.`
    )
  const bytes = Math.round(Number(m[1]) * unit)
  if (bytes < MIN_SPEED)
    throw new BandwidthInputError(`"${text}" is too slow to be a cap: the least is 10KB (10 KB/s).`)
  return bytes
}

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))

function parseTime(text: string, rule: string): string {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim())
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && m[2] !== '00'))
    throw new BandwidthInputError(
      `"${text}" in "${rule}" is not a time of day: write it like 01:00 or 23:30.`
    )
  const hh = Number(m[1]) % 24
  return `${String(hh).padStart(2, '0')}:${m[2]}`
}

/** The minutes of the day a rule covers, as at most two [start, end) spans. */
function spans(r: BandwidthRule): [number, number][] {
  const a = minutesOf(r.from)
  const b = minutesOf(r.to)
  return a < b
    ? [[a, b]]
    : [
        [a, 1440],
        [0, b]
      ]
}

/**
 * "01:00-07:00=unlimited, 12:00-13:00=10MB" → rules. Windows may wrap past
 * midnight (23:00-07:00) but not overlap; an empty text is no schedule.
 */
export function parseSchedule(text: string): BandwidthRule[] {
  const parts = text
    .split(/[,;]/)
    .map((p) => p.trim())
    .filter(Boolean)
  const rules = parts.map((part) => {
    const m = /^([^-=]+)-([^=]+)=(.+)$/.exec(part)
    if (!m)
      throw new BandwidthInputError(
        `"${part}" is not a schedule window: write it like 01:00-07:00=unlimited or 09:00-18:00=5MB.`
      )
    const from = parseTime(m[1]!, part)
    const to = parseTime(m[2]!, part)
    if (from === to)
      throw new BandwidthInputError(
        `"${part}" starts and ends at the same time; leave the window out to use the cap all day.`
      )
    return { from, to, maxSpeed: parseSpeed(m[3]!) }
  })
  checkOverlaps(rules)
  return rules
}

function checkOverlaps(rules: BandwidthRule[]): void {
  for (let i = 0; i < rules.length; i++)
    for (let j = i + 1; j < rules.length; j++) {
      const hit = spans(rules[i]!).some(([a, b]) =>
        spans(rules[j]!).some(([c, d]) => a < d && c < b)
      )
      if (hit)
        throw new BandwidthInputError(
          `The windows ${describeRule(rules[i]!)} and ${describeRule(rules[j]!)} overlap: each minute of the day may have one cap only.`
        )
    }
}

const describeRule = (r: BandwidthRule): string => `${r.from}-${r.to}`

/** Rules back to the text parseSchedule reads ("01:00-07:00=unlimited, 09:00-18:00=5MB"). */
export function formatSchedule(rules: BandwidthRule[]): string {
  return rules.map((r) => `${describeRule(r)}=${speedText(r.maxSpeed)}`).join(', ')
}

/** A speed as parseSpeed reads it back exactly: "5MB", "0.75MB", "1572864B", "unlimited". */
export function speedText(bytesPerSec: number | null): string {
  if (bytesPerSec === null) return 'unlimited'
  return Number.isInteger(bytesPerSec / 1000) ? `${bytesPerSec / 1e6}MB` : `${bytesPerSec}B`
}

/** "5 MB/s" or "unlimited". */
export function speedWord(bytesPerSec: number | null): string {
  return bytesPerSec === null ? 'unlimited' : formatSpeed(bytesPerSec)
}

/** The user's time zone, as the operating system says. */
export const localTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone

const fmtCache = new Map<string, Intl.DateTimeFormat>()
function wallClock(
  epochMs: number,
  timeZone: string
): { date: number; minute: number; ms: number } {
  let f = fmtCache.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric'
    })
    fmtCache.set(timeZone, f)
  }
  const p = Object.fromEntries(f.formatToParts(epochMs).map((x) => [x.type, Number(x.value)]))
  const date = Date.UTC(p.year!, p.month! - 1, p.day!)
  return { date, minute: p.hour! * 60 + p.minute!, ms: p.second! * 1000 + (epochMs % 1000) }
}

/** Throws a clear error for a zone this system does not know. */
export function checkTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone })
  } catch {
    throw new BandwidthInputError(
      `"${timeZone}" is not a time zone: write it like Europe/Berlin or UTC.`
    )
  }
}

/** Epoch ms of wall time `minute` on the local day `date` (Date.UTC of it) in `timeZone`. */
function wallToEpoch(date: number, minute: number, timeZone: string): number {
  const guess = date + minute * 60_000
  const offsetAt = (t: number): number => {
    const w = wallClock(t, timeZone)
    return w.date + w.minute * 60_000 + w.ms - t
  }
  const first = guess - offsetAt(guess)
  // Across a DST change the offset at the answer may differ from the guess's.
  return guess - offsetAt(first)
}

/** The cap in force at `now` and when it changes next. */
export function capAt(limits: BandwidthLimits, now: number, timeZone?: string): CapInForce {
  if (!limits.schedule.length)
    return { bytesPerSec: limits.maxSpeed, until: null, untilLabel: null }
  // Only now: the first time-zone lookup loads ICU data (~20 ms of every CLI run).
  const zone = timeZone ?? limits.timeZone ?? localTimeZone()
  const w = wallClock(now, zone)
  const rule = limits.schedule.find((r) => spans(r).some(([a, b]) => w.minute >= a && w.minute < b))
  // The next boundary of any window, counted in wall-clock minutes from now.
  const ahead = (m: number): number => ((m - w.minute + 1440 - 1) % 1440) + 1
  const edges = limits.schedule.flatMap((r) => [r.from, r.to])
  const next = edges.reduce((a, b) => (ahead(minutesOf(b)) < ahead(minutesOf(a)) ? b : a))
  const day = w.date + (minutesOf(next) <= w.minute ? 86_400_000 : 0)
  return {
    bytesPerSec: rule ? rule.maxSpeed : limits.maxSpeed,
    until: wallToEpoch(day, minutesOf(next), zone),
    untilLabel: next
  }
}

/** One absolute window for the helper: [from, to) epoch seconds and its cap. */
export type CapWindow = [from: number, to: number, bytesPerSec: number | null]

/**
 * The schedule as absolute windows from the day before `now` for `days` days,
 * so the helper needs no time-zone data: outside them (or past the last) the
 * base cap applies. DST days come out right because each edge is converted on its own.
 */
export function expandSchedule(
  limits: BandwidthLimits,
  now: number,
  days = 8,
  timeZone?: string
): CapWindow[] {
  const zone = timeZone ?? limits.timeZone ?? localTimeZone()
  const today = wallClock(now, zone).date
  const out: CapWindow[] = []
  for (let d = -1; d < days; d++) {
    const date = today + d * 86_400_000
    for (const r of limits.schedule) {
      const a = minutesOf(r.from)
      const b = minutesOf(r.to)
      const end = b > a ? wallToEpoch(date, b, zone) : wallToEpoch(date + 86_400_000, b, zone)
      out.push([wallToEpoch(date, a, zone) / 1000, end / 1000, r.maxSpeed])
    }
  }
  return out.sort((x, y) => x[0] - y[0])
}

/** "5 MB/s until 01:00", "unlimited until 07:00", "5 MB/s", or null when nothing is capped at all. */
export function describeCap(cap: CapInForce, limits: BandwidthLimits): string | null {
  if (limits.maxSpeed === null && !limits.schedule.some((r) => r.maxSpeed !== null)) return null
  const what = speedWord(cap.bytesPerSec)
  return cap.untilLabel ? `${what} until ${cap.untilLabel}` : what
}
