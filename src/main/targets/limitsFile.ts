// The workspace's bandwidth limits file, `<workspace>/.podpull/limits.json`:
// the shared truth for every process that downloads into the workspace (the
// app, `podpull serve`, a CLI download, the pod helper's workers), which each
// read again about once a second — so a cap set anywhere reaches every running
// download. Format: docs/formats.md ("Bandwidth limits").
import { mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import {
  expandSchedule,
  type BandwidthLimits,
  type BandwidthRule,
  type CapWindow
} from '../../shared/bandwidth'
import { writeStatusAtomic } from '../status/statusFile'

export const LIMITS_FILE_VERSION = 1
/** Days of absolute windows written for the helper (it has no time-zone data). */
const WINDOW_DAYS = 8

export interface LimitsFile {
  version: number
  /** Bytes/s outside the windows; null = unlimited. */
  max_speed: number | null
  /** The daily rules and their zone, as set (what the app shows and edits). */
  schedule: { from: string; to: string; max_speed: number | null }[]
  time_zone: string | null
  /** The rules as absolute [from, to) epoch seconds and cap: what the helper applies. */
  windows: CapWindow[]
  updated: number
}

export const limitsFilePath = (workspace: string): string =>
  join(workspace, '.podpull', 'limits.json')

export function limitsFileBody(limits: BandwidthLimits, now: number): LimitsFile {
  return {
    version: LIMITS_FILE_VERSION,
    max_speed: limits.maxSpeed,
    schedule: limits.schedule.map((r) => ({ from: r.from, to: r.to, max_speed: r.maxSpeed })),
    time_zone: limits.timeZone ?? null,
    windows: expandSchedule(limits, now, WINDOW_DAYS),
    updated: now / 1000
  }
}

const speedOk = (v: unknown): v is number | null =>
  v === null || (typeof v === 'number' && Number.isFinite(v) && v > 0)
const timeOk = (v: unknown): v is string => typeof v === 'string' && /^\d\d:\d\d$/.test(v)

/** The limits a file describes; undefined for anything malformed (a torn or foreign file caps nothing). */
export function limitsFromFile(raw: unknown): BandwidthLimits | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const f = raw as Partial<LimitsFile>
  if (f.version !== LIMITS_FILE_VERSION || !speedOk(f.max_speed) || !Array.isArray(f.schedule))
    return undefined
  const schedule: BandwidthRule[] = []
  for (const r of f.schedule as unknown[]) {
    const x = r as { from?: unknown; to?: unknown; max_speed?: unknown }
    if (!timeOk(x.from) || !timeOk(x.to) || !speedOk(x.max_speed)) return undefined
    schedule.push({ from: x.from, to: x.to, maxSpeed: x.max_speed })
  }
  const zone = typeof f.time_zone === 'string' ? f.time_zone : undefined
  return { maxSpeed: f.max_speed, schedule, ...(zone ? { timeZone: zone } : {}) }
}

export async function writeLocalLimits(
  workspace: string,
  limits: BandwidthLimits,
  now = Date.now()
): Promise<void> {
  const file = limitsFilePath(workspace)
  await mkdir(join(workspace, '.podpull'), { recursive: true })
  await writeStatusAtomic(file, limitsFileBody(limits, now) as unknown as Record<string, unknown>)
}

/** Reads the file again only when it changed; null when there is none. */
export class LimitsFileWatch {
  private stamp: string | null = null
  private last: BandwidthLimits | null | undefined

  constructor(private readonly workspace: string) {}

  /** The limits when the file changed since the last call (null: removed), else undefined. */
  async changed(): Promise<BandwidthLimits | null | undefined> {
    const file = limitsFilePath(this.workspace)
    const s = await stat(file).catch(() => undefined)
    const stamp = s ? `${s.mtimeMs}:${s.size}:${s.ino}` : null
    if (stamp === this.stamp && this.last !== undefined) return undefined
    this.stamp = stamp
    const text = s ? await readFile(file, 'utf8').catch(() => null) : null
    let parsed: BandwidthLimits | undefined
    try {
      parsed = text === null ? undefined : limitsFromFile(JSON.parse(text))
    } catch {
      parsed = undefined
    }
    const next = parsed ?? null
    if (this.last !== undefined && JSON.stringify(next) === JSON.stringify(this.last))
      return undefined
    this.last = next
    return next
  }
}
