// Notices when another process (a second app, the CLI, the helper) replaces the
// status file. fs.watch on the directory sees atomic renames at once where it
// works; a slow poll of the file's identity covers file systems where it doesn't
// (network mounts, some containers).
import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import { statusFileStamp } from './statusFile'

export interface StatusWatchOptions {
  /** Poll interval in ms (the fallback). */
  pollMs?: number
  /** Coalesces bursts of directory events (tmp file + rename). */
  debounceMs?: number
}

export class StatusWatch {
  private watcher: FSWatcher | null = null
  private poll: NodeJS.Timeout | null = null
  private debounce: NodeJS.Timeout | null = null
  private lastStamp: string | null = null
  private closed = false

  constructor(
    private readonly file: string,
    /** Called when the file's identity changed since the last check. */
    private readonly onChange: () => void,
    private readonly opts: StatusWatchOptions = {}
  ) {}

  async start(): Promise<void> {
    this.lastStamp = await statusFileStamp(this.file)
    const name = basename(this.file)
    try {
      this.watcher = watch(dirname(this.file), { persistent: false }, (_ev, f) => {
        if (f === null || f === name) this.nudge()
      })
      this.watcher.on('error', () => this.stopWatcher())
    } catch {
      this.watcher = null // the poll alone will do
    }
    this.poll = setInterval(() => void this.check(), this.opts.pollMs ?? 2000)
    this.poll.unref()
  }

  /** Tells the watch the current file is one we wrote: not a change to report. */
  async acknowledge(): Promise<void> {
    this.lastStamp = await statusFileStamp(this.file)
  }

  stop(): void {
    this.closed = true
    this.stopWatcher()
    if (this.poll) clearInterval(this.poll)
    if (this.debounce) clearTimeout(this.debounce)
    this.poll = this.debounce = null
  }

  private stopWatcher(): void {
    this.watcher?.close()
    this.watcher = null
  }

  private nudge(): void {
    if (this.debounce || this.closed) return
    this.debounce = setTimeout(() => {
      this.debounce = null
      void this.check()
    }, this.opts.debounceMs ?? 50)
  }

  private async check(): Promise<void> {
    if (this.closed) return
    const stamp = await statusFileStamp(this.file)
    if (stamp === this.lastStamp) return
    this.lastStamp = stamp
    this.onChange()
  }
}
