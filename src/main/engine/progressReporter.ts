// Turns the byte counters of a run into onProgress calls: at most ~4 a second
// while bytes flow, at once on a state change.
import { SpeedMeter } from './speedMeter'
import type { EngineProgress } from './types'

const INTERVAL_MS = 250

export interface ProgressSource {
  fileSize: number | null
  downloaded: () => number
  attempts: () => number
  resumable: boolean
  connections: () => number
}

export class ProgressReporter {
  private state: EngineProgress['state'] = 'starting'
  private meter: SpeedMeter | undefined
  private timer: NodeJS.Timeout | undefined
  private source: ProgressSource | undefined
  private notice: string | null = null

  constructor(private readonly onProgress: (p: EngineProgress) => void) {}

  /** Reports a new state now (and starts the 4/s ticker once bytes can flow). */
  setState(state: EngineProgress['state'], source?: ProgressSource): void {
    this.state = state
    if (source) {
      this.source = source
      this.meter ??= new SpeedMeter(source.downloaded())
    }
    if (state === 'downloading' && !this.timer) {
      this.timer = setInterval(() => this.emit(), INTERVAL_MS)
      this.timer.unref()
    }
    if (state !== 'downloading') this.stopTicker()
    this.emit()
  }

  /** What the download is waiting for (a rate limit), reported now. */
  setNotice(text: string | null): void {
    if (text === this.notice) return
    this.notice = text
    this.emit()
  }

  stop(): void {
    this.stopTicker()
  }

  private stopTicker(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private emit(): void {
    const s = this.source
    const downloaded = s?.downloaded() ?? 0
    const speed = this.meter && this.state === 'downloading' ? this.meter.sample(downloaded) : 0
    try {
      this.onProgress({
        state: this.state,
        fileSize: s?.fileSize ?? null,
        downloaded,
        speed,
        eta: this.meter && speed > 0 ? this.meter.eta(s?.fileSize ?? null, downloaded) : null,
        attempts: s?.attempts() ?? 1,
        resumable: s?.resumable ?? false,
        connections: s?.connections() ?? 0,
        notice: this.notice
      })
    } catch {
      // A listener's bug must not break the download.
    }
  }
}
