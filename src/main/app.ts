// Assembles PodPull from its parts: the store, the core, the targets and the
// handler table. The Electron shell, the CLI and `podpull serve` all start here.
import type { AppStore } from './settings/createStore'
import { createHandlers } from './api/handlers'
import type { ApiHandlers } from '../shared/api'
import { PodPullCore, type CoreOptions, type NativeShell } from './core/podpullCore'
import { envTokenStore, type SecretBox, type TokenStore } from './core/tokenStore'
import { createSourceServices, type HubImages } from './api/sourceServices'
import { join } from 'node:path'
import { createTarget } from './createTarget'
import { appHome } from './settings/appHome'
import { createAppLog, silentLog, type AppLog } from './diagnostics/appLog'
import { logActivity, loggedHandlers } from './diagnostics/activityLog'

/** Secrets to mask in the log, read at each write (a token may be set later). */
const secretsOf = (core: PodPullCore) => (): string[] =>
  [...core.knownSecrets(), process.env.RUNPOD_API_KEY ?? ''].filter(Boolean)

export interface PodPullApp {
  core: PodPullCore
  handlers: ApiHandlers
  /** The app log (<home>/logs/podpull.log), secrets redacted. */
  log: AppLog
  /** PODPULL_HOME or the platform's user-data folder. */
  home: string
  /** Hub preview images for the page's /hub-image/ route (Electron protocol, serve). */
  images: HubImages
  /** Writes the diagnostics archive (default under <home>/diagnostics/); returns its path. */
  diagnostics(output?: string): Promise<string>
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
  /** Where state and logs live (default appHome()); null writes no log file. */
  home?: string | null
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
  const home = opts.home === undefined ? appHome() : opts.home
  const logging = home ? createAppLog({ home, secrets: secretsOf(core) }) : null
  const log = logging?.log ?? silentLog()
  const nameOf = (id: string): string => core.targetInfos().find((t) => t.id === id)?.name ?? id
  const stopActivity = logActivity(core, log, nameOf)
  // What PodPull did by itself (e.g. stopped a pod when its downloads finished).
  const stopNotices = core.onNotice((id, message) =>
    log.info({ target: nameOf(id), message }, 'notice')
  )
  log.info({ host: opts.host, version: process.env.npm_package_version }, 'start')
  // Loaded on demand: tar and the archive code cost start-up time every CLI command would pay.
  const diagnostics = async (output?: string): Promise<string> => {
    const { writeDiagnostics } = await import('./diagnostics/diagnosticsArchive')
    return writeDiagnostics({
      core,
      home: home ?? process.cwd(),
      output,
      secrets: core.knownSecrets()
    })
  }
  // Cached beside the app's state; without a home (tests) nothing is kept on disk.
  const sources = createSourceServices(tokens, {
    imageCacheDir: home ? join(home, 'cache', 'hub-images') : null
  })
  const images = sources.images
  const handlers = loggedHandlers(
    createHandlers(core, sources, () => diagnostics()),
    log
  )
  // Fill pods recorded by an earlier run: finished ones removed, the rest go on.
  if (opts.open !== false && Object.keys(core.store.get('fillPods') ?? {}).length)
    void handlers
      .runpodReconcile({})
      .then((r) =>
        r.removed.forEach((b) => log.info({ pod: b.podId }, 'removed a leftover fill pod'))
      )
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'fill pods not checked'))
  let disposing: Promise<void> | undefined
  return {
    core,
    handlers,
    log,
    home: home ?? process.cwd(),
    images,
    diagnostics,
    // Once, whoever asks first: a second caller (the CLI's Ctrl-C path and
    // its normal exit) waits for the same work instead of finding the targets
    // already marked closed and exiting before a paused job's sidecar is saved.
    dispose: () =>
      (disposing ??= (async () => {
        await core.dispose()
        stopActivity()
        stopNotices()
        await logging?.close()
      })())
  }
}
