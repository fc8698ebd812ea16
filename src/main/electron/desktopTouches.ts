// Turns the download stream into desktop feedback: a notification when a
// download completes or fails, aggregate progress for the taskbar / dock, and
// the count of running downloads (the tray shows while it is non-zero).
// Electron-free so it can be tested; the shell passes the Electron calls in.
import { ACTIVE_STATES, type DownloadRecord, type DownloadsChangedEvent } from '../../shared/types'

export interface DesktopSink {
  notify(title: string, body: string): void
  /** 0..1, or null to clear. */
  progress(fraction: number | null): void
  activeChanged(active: number): void
}

interface Source {
  on(event: 'downloadsChanged', cb: (ev: DownloadsChangedEvent) => void): unknown
  downloads(): DownloadRecord[]
  settings(): { notifications: boolean }
}

export function desktopTouches(core: Source, sink: DesktopSink): void {
  const last = new Map<string, DownloadRecord>(core.downloads().map((r) => [r.id, r]))
  let lastActive = -1
  const refresh = (): void => {
    const active = [...last.values()].filter((r) => ACTIVE_STATES.includes(r.state))
    const total = active.reduce((n, r) => n + (r.fileSize ?? 0), 0)
    const done = active.reduce((n, r) => n + r.downloaded, 0)
    sink.progress(active.length && total > 0 ? Math.min(1, done / total) : null)
    if (active.length !== lastActive) sink.activeChanged(active.length)
    lastActive = active.length
  }
  core.on('downloadsChanged', (ev) => {
    for (const r of ev.upserts) {
      const before = last.get(r.id)
      last.set(r.id, r)
      if (!before || before.state === r.state || !core.settings().notifications) continue
      if (r.state === 'completed')
        sink.notify('Download complete', `${r.filename} is in ${r.folder}.`)
      if (r.state === 'error')
        sink.notify('Download failed', `${r.filename}: ${r.error ?? 'unknown error'}`)
    }
    for (const { id } of ev.removed) last.delete(id)
    refresh()
  })
  refresh()
}
