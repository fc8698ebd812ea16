// A target's bandwidth limits over time: which cap is in force now (the
// schedule is evaluated once a second, in the schedule's time zone), told to
// whoever enforces it — the local engine's shared limiter, or the pod helper —
// and described for the header and the target card ("5 MB/s until 01:00").
import {
  capAt,
  describeCap,
  UNLIMITED,
  type BandwidthLimits,
  type CapInForce
} from '../../shared/bandwidth'
import type { BandwidthInForce } from '../../shared/types'

/** How often the schedule is looked at: a window edge takes effect within it. */
const TICK_MS = 1000

export interface BandwidthControlOptions {
  /** Epoch ms; injectable for tests (a schedule edge without waiting for it). */
  clock?: () => number
  /** The cap in force changed (or the limits did). */
  onCap: (cap: CapInForce, limits: BandwidthLimits) => void
  tickMs?: number
  /** Limits set elsewhere (another process, the workspace's limits file): a
   *  change when it resolves to limits, null for none, undefined for no change. */
  reload?: () => Promise<BandwidthLimits | null | undefined>
}

/** What TargetInfo carries: the cap in force in words, or null when uncapped. */
export function inForce(c: BandwidthControl): BandwidthInForce | null {
  const text = c.describe()
  return text === null ? null : { text, bytesPerSec: c.current.bytesPerSec }
}

/** The target's config with the limits in force, which may have been set by
 *  another process since the config was read (the dialog edits these). */
export function configWithLimits<C extends { bandwidth?: BandwidthLimits }>(
  config: C,
  c: BandwidthControl
): C {
  return c.known ? { ...config, bandwidth: c.settings } : config
}

/** Whether two sets of limits say the same (the zone left out is no zone). */
export const sameLimits = (a: BandwidthLimits | null, b: BandwidthLimits | null): boolean =>
  JSON.stringify(a && [a.maxSpeed, a.schedule, a.timeZone ?? null]) ===
  JSON.stringify(b && [b.maxSpeed, b.schedule, b.timeZone ?? null])

export class BandwidthControl {
  private limits: BandwidthLimits
  private cap: CapInForce
  private timer: NodeJS.Timeout | undefined
  private reloading = false
  /** Limits were given or set (else none were ever: the config says nothing). */
  known: boolean

  constructor(
    limits: BandwidthLimits | undefined,
    private readonly opts: BandwidthControlOptions
  ) {
    this.limits = limits ?? UNLIMITED
    this.known = limits !== undefined
    this.cap = this.evaluate()
  }

  /** The cap in force now, as last evaluated. */
  get current(): CapInForce {
    return this.cap
  }

  get settings(): BandwidthLimits {
    return this.limits
  }

  /** "5 MB/s until 01:00"; null when the target has no cap at all. */
  describe(): string | null {
    return describeCap(this.cap, this.limits)
  }

  /** Applies at once, then follows the schedule. */
  start(): void {
    this.opts.onCap(this.cap, this.limits)
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? TICK_MS)
      this.timer.unref()
    }
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  set(limits: BandwidthLimits): void {
    this.limits = limits
    this.known = true
    this.cap = this.evaluate()
    this.opts.onCap(this.cap, this.limits)
  }

  /** Re-evaluates the schedule (and reloads the limits); tells only of a change. */
  tick(): void {
    if (this.opts.reload && !this.reloading) {
      this.reloading = true
      void this.opts
        .reload()
        .then((l) => {
          if (l !== undefined) this.set(l ?? UNLIMITED)
        })
        .catch(() => undefined) // unreadable now: the limits in force stay
        .finally(() => (this.reloading = false))
    }
    const next = this.evaluate()
    if (next.bytesPerSec === this.cap.bytesPerSec && next.untilLabel === this.cap.untilLabel) return
    this.cap = next
    this.opts.onCap(next, this.limits)
  }

  private evaluate(): CapInForce {
    return capAt(this.limits, (this.opts.clock ?? Date.now)())
  }
}
