// One cap for a workspace however many local processes download into it (the
// app, `podpull serve`, a `podpull download` in a terminal): each process that
// is downloading keeps a heartbeat file in `<workspace>/.podpull/bandwidth/`,
// touched about once a second, and runs at the cap over the number of fresh
// heartbeats. The pod helper's workers do the same in the same folder
// (resources/helper/podpull_helper/bandwidth.py). Files are heartbeats, not
// locks: a process that dies stops counting once its file is stale, with
// nothing to clean up.
import { mkdir, readdir, stat, unlink, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { BandwidthLimiter } from '../../engine/bandwidthLimiter'

/** A heartbeat older than this is a process that stopped downloading. */
export const FRESH_MS = 3000

/** This process's part of the cap, when `participants` processes download (null: unlimited). */
export const shareOf = (cap: number | null, participants: number): number | null =>
  cap === null ? null : cap / Math.max(1, participants)

/** Heartbeats younger than FRESH_MS at `now` among files with these mtimes. */
export const freshCount = (mtimes: number[], now: number): number =>
  mtimes.filter((m) => now - m < FRESH_MS).length

export class BandwidthShare {
  private readonly dir: string
  private readonly file: string
  private joined = false

  constructor(workspace: string, self = `local-${hostname()}-${process.pid}`) {
    this.dir = join(workspace, '.podpull', 'bandwidth')
    this.file = join(this.dir, self)
  }

  /** Marks this process as downloading now; returns how many processes are (at least 1). */
  async beat(now = Date.now()): Promise<number> {
    try {
      await mkdir(this.dir, { recursive: true })
      const t = new Date(now)
      await utimes(this.file, t, t).catch(async () => {
        await writeFile(this.file, '')
        await utimes(this.file, t, t)
      })
      this.joined = true
      const names = await readdir(this.dir)
      const mtimes = await Promise.all(
        names.map((n) =>
          stat(join(this.dir, n)).then(
            (s) => s.mtimeMs,
            () => 0 // gone meanwhile
          )
        )
      )
      return Math.max(1, freshCount(mtimes, now))
    } catch {
      return 1 // an unwritable workspace: this process keeps to the cap alone
    }
  }

  /** No longer downloading: the others share the cap without this process. */
  async leave(): Promise<void> {
    if (!this.joined) return
    this.joined = false
    await unlink(this.file).catch(() => undefined)
  }
}

/** How often a downloading process touches its heartbeat and counts the others. */
const BEAT_MS = 1000

/**
 * A target's cap as this process applies it: its share of the cap while it
 * downloads (counted again each second and whenever a download starts); an
 * idle process leaves the count, so the others share the cap without it.
 */
export class SharedCap {
  private cap: number | null = null
  private participants = 1
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly limiter: BandwidthLimiter,
    private readonly share: BandwidthShare,
    /** Whether this process runs a download of the target now. */
    private readonly active: () => boolean
  ) {}

  /** The cap in force (bytes/s, null = unlimited): applied at once at the last known share. */
  setCap(cap: number | null): void {
    this.cap = cap
    this.limiter.setRate(shareOf(cap, this.participants))
    void this.apply()
  }

  start(): void {
    this.timer ??= setInterval(() => void this.apply(), BEAT_MS)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.share.leave()
  }

  /** Counts the processes downloading under the cap and takes this one's share. */
  async apply(): Promise<void> {
    if (this.cap !== null && this.active()) this.participants = await this.share.beat()
    else {
      this.participants = 1
      await this.share.leave()
    }
    this.limiter.setRate(shareOf(this.cap, this.participants))
  }
}
