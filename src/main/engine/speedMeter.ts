// Smoothed speed and ETA. An exponentially weighted moving average over time
// (not over samples), so irregular sampling still gives a steady number.

/** Time constant of the average: about the last few seconds count. */
const TAU_MS = 3000

export class SpeedMeter {
  private speed = 0
  private lastBytes: number
  private lastAt: number
  private primed = false

  constructor(startBytes: number, now = Date.now()) {
    this.lastBytes = startBytes
    this.lastAt = now
  }

  /** Feeds the running byte count; returns the smoothed bytes/s. */
  sample(bytes: number, now = Date.now()): number {
    const dt = now - this.lastAt
    if (dt <= 0) return this.speed
    const instant = ((bytes - this.lastBytes) * 1000) / dt
    // The first sample sets the level at once rather than climbing from 0.
    const alpha = this.primed ? 1 - Math.exp(-dt / TAU_MS) : 1
    this.speed = this.speed + alpha * (instant - this.speed)
    this.primed = true
    this.lastBytes = bytes
    this.lastAt = now
    return this.speed
  }

  get bytesPerSecond(): number {
    return this.speed
  }

  /** Seconds left at the smoothed speed, null while the size or the speed is unknown. */
  eta(total: number | null, done: number): number | null {
    if (total === null || this.speed <= 0) return null
    return Math.max(0, total - done) / this.speed
  }
}
