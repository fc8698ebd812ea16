// Follows one download until it ends: a progress bar on a TTY, a plain line a
// second otherwise (logs, CI, pipes).
import cliProgress from 'cli-progress'
import type { DownloadRecord, DownloadsChangedEvent } from '../shared/types'
import { formatBytes, formatDuration, formatSpeed } from '../shared/format'
import { plainText } from '../shared/plainText'

export const TERMINAL = new Set(['completed', 'error', 'cancelled', 'paused'])

interface Source {
  on(event: 'downloadsChanged', cb: (ev: DownloadsChangedEvent) => void): unknown
  off(event: 'downloadsChanged', cb: (ev: DownloadsChangedEvent) => void): unknown
  downloads(): DownloadRecord[]
}

export function describe(r: DownloadRecord): string {
  const size = r.fileSize ? ` / ${formatBytes(r.fileSize)}` : ''
  const eta = r.eta !== null && r.state === 'downloading' ? `  ETA ${formatDuration(r.eta)}` : ''
  const notice = r.notice ? `  (${r.notice})` : ''
  return `${r.state.padEnd(11)} ${String(r.progress).padStart(3)}%  ${formatBytes(r.downloaded)}${size}  ${formatSpeed(r.speed)}${eta}${notice}`
}

/** How often the record is looked at again besides its change events. It also
 *  keeps the process alive: the status file's watch and poll don't (they must
 *  not hold a finished command open), so a follower of another process's
 *  download would otherwise end before that download does. */
const RECHECK_MS = 1000

/** Resolves with the record once it reaches a terminal state. */
export function follow(
  source: Source,
  id: string,
  out: NodeJS.WriteStream = process.stderr
): Promise<DownloadRecord> {
  const tty = Boolean(out.isTTY)
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: ' {bar} {percentage}% | {done} / {total} | {speed} | ETA {eta_h}{notice}',
          hideCursor: true,
          stream: out,
          barsize: 30
        },
        cliProgress.Presets.shades_classic
      )
    : null
  let started = false
  let lastLine = 0
  return new Promise((resolve) => {
    const show = (r: DownloadRecord): void => {
      if (bar) {
        const payload = {
          done: formatBytes(r.downloaded),
          total: formatBytes(r.fileSize),
          speed: formatSpeed(r.speed),
          eta_h: formatDuration(r.eta),
          notice: r.notice ? ` | ${r.notice}` : ''
        }
        if (!started) bar.start(100, r.progress, payload)
        else bar.update(r.progress, payload)
        started = true
      } else if (Date.now() - lastLine >= 1000 || TERMINAL.has(r.state)) {
        lastLine = Date.now()
        out.write(plainText(`${describe(r)}\n`))
      }
    }
    const check = (r: DownloadRecord | undefined): boolean => {
      if (!r) return false
      show(r)
      if (!TERMINAL.has(r.state)) return false
      if (bar && started) bar.stop()
      source.off('downloadsChanged', onEvent)
      clearInterval(keepAlive)
      resolve(r)
      return true
    }
    const onEvent = (ev: DownloadsChangedEvent): void => {
      void check(ev.upserts.find((r) => r.id === id))
    }
    const keepAlive = setInterval(
      () => check(source.downloads().find((r) => r.id === id)),
      RECHECK_MS
    )
    source.on('downloadsChanged', onEvent)
    check(source.downloads().find((r) => r.id === id))
  })
}
