// Assembles PodPull from its parts: the store, the core, the targets and the
// handler table. The Electron shell, the CLI and `podpull serve` all start here.
import type { AppStore } from './settings/createStore'
import { createHandlers } from './api/handlers'
import type { ApiHandlers } from '../shared/api'
import { PodPullCore, type CoreOptions, type NativeShell } from './core/podpullCore'
import { envTokenStore, type SecretBox, type TokenStore } from './core/tokenStore'
import { createSourceServices } from './api/createSourceServices'
import { createTarget } from './createTarget'

export interface PodPullApp {
  core: PodPullCore
  handlers: ApiHandlers
  dispose(): Promise<void>
}

export interface CreateAppOptions {
  store: AppStore
  host: 'electron' | 'headless'
  tokens?: TokenStore
  secretBox?: SecretBox
  native?: NativeShell
  /** Open every target at once (default true; the CLI opens only what it needs). */
  open?: boolean
  settingsOverride?: CoreOptions['settingsOverride']
}

export async function createApp(opts: CreateAppOptions): Promise<PodPullApp> {
  const tokens = opts.tokens ?? envTokenStore()
  const core = new PodPullCore({
    store: opts.store,
    host: opts.host,
    tokens,
    secretBox: opts.secretBox,
    native: opts.native,
    settingsOverride: opts.settingsOverride,
    createTarget
  })
  await core.init({ open: opts.open })
  const handlers = createHandlers(core, createSourceServices(tokens))
  return { core, handlers, dispose: () => core.dispose() }
}
