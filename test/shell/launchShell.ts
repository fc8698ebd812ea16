// Loads a built shell bundle (out/main/index.js, or a scratch copy of out/)
// under Node with the fake `electron` module, and drives it as a user and the
// OS would: IPC calls from a page, requests to the app:// scheme, closing the
// window, quitting. Each launch evaluates the bundle afresh.
import { mkdtempSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { vi } from 'vitest'
import { ipcChannel, type ApiMethod } from '../../src/shared/api'
import { createFakeElectron, setCurrentElectron, type FakeElectron } from './fakeElectron'

export const APP_PAGE = 'app://podpull/index.html'

export interface LaunchOptions {
  singleInstance?: boolean
  encryption?: boolean
  /** Simulate a packaged app: Electron sets process.resourcesPath. */
  resourcesPath?: string
  /** How long quit() waits for the shell to exit (a bound, not a pace: it fails a hung shell). */
  exitTimeoutMs?: number
}

export interface Shell {
  fake: FakeElectron
  home: string
  invoke(method: ApiMethod, args?: unknown, senderUrl?: string): Promise<unknown>
  fetchScheme(url: string): Promise<Response>
  quit(): Promise<{ prevented: boolean }>
}

type Envelope = { ok: true; v: unknown } | { ok: false; e: { code: string; message: string } }

export async function launchShell(bundleDir: string, opts: LaunchOptions = {}): Promise<Shell> {
  const fake = createFakeElectron(opts)
  setCurrentElectron(fake)
  const home = mkdtempSync(join(tmpdir(), 'podpull-shell-'))
  process.env.PODPULL_HOME = home
  delete process.env.ELECTRON_RENDERER_URL
  const proc = process as { resourcesPath?: string }
  if (opts.resourcesPath) proc.resourcesPath = opts.resourcesPath
  else delete proc.resourcesPath
  // Each fresh copy of the bundle's lock library adds its signal listeners again.
  process.setMaxListeners(100)
  vi.resetModules()
  await import(pathToFileURL(join(bundleDir, 'main', 'index.js')).href)
  if (opts.singleInstance !== false)
    await vi.waitFor(() => {
      if (fake.windows().length === 0) throw new Error('no window yet')
    })

  const invoke = async (method: ApiMethod, args: unknown = {}, senderUrl = APP_PAGE) => {
    const handler = fake.rec.ipc.get(ipcChannel(method))
    if (!handler) throw new Error(`no IPC handler for ${method}`)
    const res = (await handler({ senderFrame: { url: senderUrl } as never }, args)) as Envelope
    if (!res.ok) throw Object.assign(new Error(res.e.message), { code: res.e.code })
    return res.v
  }
  const fetchScheme = async (url: string): Promise<Response> => {
    const handler = fake.rec.protocolHandlers.get('app')
    if (!handler) throw new Error('the app:// scheme has no handler')
    return handler(new Request(url))
  }
  const quit = async (): Promise<{ prevented: boolean }> => {
    let prevented = false
    fake.appEvents.emit('before-quit', { preventDefault: () => (prevented = true) })
    fake.appEvents.emit('will-quit', { preventDefault: () => (prevented = true) })
    // Bounded, so a shell that never exits fails instead of hanging the run.
    await vi.waitFor(
      () => {
        if (fake.rec.exitCode === null) throw new Error('the shell did not exit after quit')
      },
      { timeout: opts.exitTimeoutMs ?? 20_000, interval: 50 }
    )
    return { prevented }
  }
  return { fake, home, invoke, fetchScheme, quit }
}

/** A folder that looks like a ComfyUI install (it has models/). */
export function comfyInstall(home: string): string {
  const comfy = join(home, 'ComfyUI')
  mkdirSync(join(comfy, 'models', 'loras'), { recursive: true })
  return comfy
}
