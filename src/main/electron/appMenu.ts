// The application menu (standard roles plus About) and the About dialog's
// text. Pure, so the shell test and unit tests can read what users see.
import type { MenuItemConstructorOptions } from 'electron'
import type { AboutInfo } from '../../shared/api'

export function appMenuTemplate(showAbout: () => void): MenuItemConstructorOptions[] {
  const about: MenuItemConstructorOptions = { label: 'About PodPull', click: () => showAbout() }
  return [
    ...(process.platform === 'darwin'
      ? [
          {
            label: 'PodPull',
            submenu: [about, { type: 'separator' as const }, { role: 'quit' as const }]
          }
        ]
      : [{ role: 'fileMenu' as const }]),
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: process.platform === 'darwin' ? [] : [about]
    }
  ]
}

export function aboutText(a: AboutInfo): { message: string; detail: string } {
  return {
    message: `PodPull ${a.app}`,
    detail: [
      `Electron ${a.electron ?? '—'}`,
      `Node ${a.node}`,
      `Chromium ${a.chromium ?? '—'}`,
      `Pod helper ${a.helper ?? 'missing'}`,
      '',
      `Settings: ${a.settingsFile}`,
      `Logs: ${a.logsDir}`
    ].join('\n')
  }
}
