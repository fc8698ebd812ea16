// The target dialog's bandwidth section as plain data: a max speed with its
// unit, the schedule's rows (from–to = speed or unlimited) and the time zone.
// Checked here with the same parser main uses, so the dialog names the bad
// field before anything is sent; what it sends is the text form setBandwidth
// takes ("5MB", "01:00-07:00=unlimited, 09:00-18:00=2MB").
import {
  BandwidthInputError,
  checkTimeZone,
  localTimeZone,
  parseSchedule,
  parseSpeed,
  type BandwidthLimits
} from '../shared/bandwidth'

export type SpeedUnit = 'MB/s' | 'KB/s'
export const SPEED_UNITS: SpeedUnit[] = ['MB/s', 'KB/s']

export interface SpeedField {
  /** A number; empty means unlimited. */
  value: string
  unit: SpeedUnit
}

export interface RuleField {
  from: string
  to: string
  unlimited: boolean
  speed: SpeedField
}

export interface BandwidthForm {
  cap: SpeedField
  rules: RuleField[]
  timeZone: string
}

/** What setBandwidth takes (without the target's id). */
export interface BandwidthRequest {
  maxSpeed: string
  schedule: string
  timeZone: string
}

/** Bytes/s → the field: MB/s from 1 MB/s up, KB/s below. */
function speedField(bytes: number | null): SpeedField {
  if (bytes === null) return { value: '', unit: 'MB/s' }
  if (bytes >= 1e6) return { value: String(Math.round(bytes / 1e3) / 1e3), unit: 'MB/s' }
  return { value: String(Math.round(bytes / 1e3)), unit: 'KB/s' }
}

export function formFromLimits(limits: BandwidthLimits | undefined): BandwidthForm {
  return {
    cap: speedField(limits?.maxSpeed ?? null),
    rules: (limits?.schedule ?? []).map((r) => ({
      from: r.from,
      to: r.to,
      unlimited: r.maxSpeed === null,
      speed: speedField(r.maxSpeed)
    })),
    timeZone: limits?.timeZone ?? localTimeZone()
  }
}

export const newRule = (): RuleField => ({
  from: '01:00',
  to: '07:00',
  unlimited: true,
  speed: { value: '', unit: 'MB/s' }
})

/** A refusal that names the field it is about, for the dialog to mark it. */
export class BandwidthFieldError extends Error {
  constructor(
    readonly field: string,
    message: string
  ) {
    super(message)
  }
}

function speedText(f: SpeedField, label: string, field: string, emptyIs?: string): string {
  const v = f.value.trim()
  if (!v) {
    if (emptyIs) return emptyIs
    throw new BandwidthFieldError(field, `${label}: enter a speed, or tick "unlimited".`)
  }
  if (!/^\d+(\.\d+)?$/.test(v))
    throw new BandwidthFieldError(field, `${label}: "${v}" is not a number (e.g. 5 or 2.5).`)
  const text = `${v}${f.unit === 'MB/s' ? 'MB' : 'KB'}`
  try {
    parseSpeed(text)
  } catch (err) {
    if (err instanceof BandwidthInputError)
      throw new BandwidthFieldError(field, `${label}: at least 10 KB/s (slower looks like a hang).`)
    throw err
  }
  return text
}

/** The request for the form, or a BandwidthFieldError naming the first bad field. */
export function requestOf(form: BandwidthForm): BandwidthRequest {
  const maxSpeed = speedText(form.cap, 'Max speed', 'cap', 'unlimited')
  const parts = form.rules.map((r, i) => {
    const label = `Window ${i + 1}`
    if (!r.from || !r.to)
      throw new BandwidthFieldError(`rule-${i}`, `${label}: set both the start and the end time.`)
    if (r.from === r.to)
      throw new BandwidthFieldError(
        `rule-${i}`,
        `${label}: starts and ends at ${r.from}; remove it to use the max speed all day.`
      )
    const speed = r.unlimited ? 'unlimited' : speedText(r.speed, label, `rule-${i}`)
    return `${r.from}-${r.to}=${speed}`
  })
  const schedule = parts.join(', ')
  try {
    parseSchedule(schedule) // overlaps
  } catch (err) {
    if (err instanceof BandwidthInputError) throw new BandwidthFieldError('schedule', err.message)
    throw err
  }
  const timeZone = form.timeZone.trim()
  if (!timeZone)
    throw new BandwidthFieldError('zone', 'Time zone: enter one, like Europe/Berlin or UTC.')
  try {
    checkTimeZone(timeZone)
  } catch (err) {
    if (err instanceof BandwidthInputError) throw new BandwidthFieldError('zone', err.message)
    throw err
  }
  return { maxSpeed, schedule, timeZone }
}

/** The request, or the error that names the first bad field. */
export function tryRequest(form: BandwidthForm): BandwidthRequest | BandwidthFieldError {
  try {
    return requestOf(form)
  } catch (err) {
    if (err instanceof BandwidthFieldError) return err
    throw err
  }
}

/** Every time zone this runtime knows, for the zone field's suggestions. */
export function timeZones(): string[] {
  const intl = Intl as { supportedValuesOf?: (key: string) => string[] }
  return intl.supportedValuesOf?.('timeZone') ?? []
}
