// Where PodPull keeps its state. The Electron app and the CLI must agree, so
// this mirrors Electron's userData location for the product name "PodPull".
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export const PRODUCT_NAME = 'PodPull'

export function appHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PODPULL_HOME) return resolve(env.PODPULL_HOME)
  const home = homedir()
  if (process.platform === 'win32') {
    return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), PRODUCT_NAME)
  }
  if (process.platform === 'darwin')
    return join(home, 'Library', 'Application Support', PRODUCT_NAME)
  return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), PRODUCT_NAME)
}
