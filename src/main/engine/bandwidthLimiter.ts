// One byte budget shared by every connection of every download of a target.
// Readers pay after they read (a socket read cannot be sized in advance):
// each read adds to what is owed, credit accrues at the cap, and a reader
// whose bytes run past the credit stops reading its socket until the credit
// reaches them (TCP backpressure then slows the server honestly). Readers
// wait in the order they read, so N connections share the cap evenly and
// the debt never exceeds about one read per connection.
//
// Unlimited costs one comparison per read. A new cap reschedules the waiting
// readers at once, so it reaches running downloads immediately.

/** Credit that may pile up while nobody reads, in seconds of the cap. */
const BURST_SECONDS = 0.05

interface Waiter {
  /** Owed bytes (cumulative) this reader must see paid before reading on. */
  upTo: number
  wake: () => void
}

export class BandwidthLimiter {
  private cap: number | null = null
  /** Bytes read through the limiter while capped, cumulative. */
  private owed = 0
  /** Bytes the cap allowed so far, cumulative (at most a burst ahead of `owed`). */
  private paid = 0
  private last = 0
  private readonly waiters: Waiter[] = []
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Bytes/s in force; null = unlimited. */
  get rate(): number | null {
    return this.cap
  }

  /** Readers waiting for credit now (for tests and diagnostics). */
  get waiting(): number {
    return this.waiters.length
  }

  /** Sets the cap (bytes/s, null = unlimited); waiting readers are rescheduled at once. */
  setRate(bytesPerSec: number | null): void {
    const next = bytesPerSec !== null && bytesPerSec > 0 ? bytesPerSec : null
    if (next === this.cap) return
    this.accrue()
    this.cap = next
    if (next === null) this.paid = this.owed // nothing is owed to no cap
    this.last = this.now()
    this.schedule()
  }

  /**
   * Counts `n` bytes just read. Undefined: read on. A promise: stop reading
   * until it settles (the credit has reached these bytes, or the cap was lifted).
   */
  take(n: number): Promise<void> | undefined {
    if (this.cap === null) return undefined
    this.accrue()
    this.owed += n
    if (this.owed <= this.paid) return undefined
    return new Promise<void>((wake) => {
      this.waiters.push({ upTo: this.owed, wake })
      if (this.waiters.length === 1) this.schedule()
    })
  }

  private accrue(): void {
    const t = this.now()
    if (this.cap !== null) {
      const credit = ((t - this.last) / 1000) * this.cap
      this.paid = Math.min(this.paid + credit, this.owed + this.cap * BURST_SECONDS)
    }
    this.last = t
  }

  /** Wakes every reader the credit has reached and sets the timer for the next. */
  private schedule(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.accrue()
    while (this.waiters.length && (this.cap === null || this.waiters[0]!.upTo <= this.paid))
      this.waiters.shift()!.wake()
    const head = this.waiters[0]
    if (!head || this.cap === null) return
    const ms = Math.max(1, ((head.upTo - this.paid) / this.cap) * 1000)
    this.timer = setTimeout(() => this.schedule(), ms)
  }
}
