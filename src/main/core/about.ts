// What the About entries (app menu, dashboard) show: the versions of every
// part a bug report needs, and where PodPull keeps its settings and logs.
// Electron-free: under plain Node (CLI, `podpull serve`) Electron and Chromium
// are simply absent from process.versions.
import { join } from 'node:path'
import { version as appVersion } from '../../../package.json'
import type { AboutInfo } from '../../shared/api'
import { appHome } from '../settings/appHome'
import { loadHelper } from '../ssh/helperUpload'

export function aboutInfo(
  versions: NodeJS.ProcessVersions & { electron?: string; chrome?: string } = process.versions,
  home = appHome(),
  helperVersion: () => string = () => loadHelper().version
): AboutInfo {
  let helper: string | null
  try {
    helper = helperVersion()
  } catch {
    helper = null
  }
  return {
    app: appVersion,
    electron: versions.electron ?? null,
    node: versions.node,
    chromium: versions.chrome ?? null,
    helper,
    settingsFile: join(home, 'config.json'),
    logsDir: join(home, 'logs')
  }
}
