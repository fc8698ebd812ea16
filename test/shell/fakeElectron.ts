// A small recording fake of the `electron` module, for loading the built shell
// (out/main/index.js) under Node where the Electron binary can't run. Every
// part is typed against Electron's own .d.ts (Pick<Electron.X, …> and
// `satisfies`), so a renamed or re-typed Electron API fails the typecheck
// instead of drifting silently. It behaves like Electron where the shell
// relies on it: privileged schemes are refused after 'ready', events are
// emitted by the test, and exit() is recorded rather than ending the process.
import { EventEmitter } from 'node:events'
import type * as E from 'electron'

type Listener = (...args: any[]) => void // eslint-disable-line @typescript-eslint/no-explicit-any

export class FakeWebContents
  extends EventEmitter
  implements Pick<E.WebContents, 'send' | 'isDestroyed'>
{
  sent: { channel: string; payload: unknown }[] = []
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, payload: args[0] })
  }
  isDestroyed(): boolean {
    return false
  }
  setWindowOpenHandler: E.WebContents['setWindowOpenHandler'] = (h) => {
    this.windowOpenHandler = h
  }
  windowOpenHandler: Parameters<E.WebContents['setWindowOpenHandler']>[0] | null = null
}

export class FakeBrowserWindow
  extends EventEmitter
  implements
    Pick<
      E.BrowserWindow,
      | 'loadURL'
      | 'show'
      | 'hide'
      | 'focus'
      | 'isVisible'
      | 'isMinimized'
      | 'restore'
      | 'maximize'
      | 'isMaximized'
      | 'isDestroyed'
      | 'setProgressBar'
      | 'getNormalBounds'
    >
{
  static all: FakeBrowserWindow[] = []
  webContents = new FakeWebContents()
  url: string | null = null
  visible = false
  minimized = false
  focused = 0
  progress: number[] = []
  constructor(public options: E.BrowserWindowConstructorOptions) {
    super()
    FakeBrowserWindow.all.push(this)
  }
  async loadURL(url: string): Promise<void> {
    this.url = url
  }
  show(): void {
    this.visible = true
  }
  hide(): void {
    this.visible = false
  }
  focus(): void {
    this.focused++
  }
  isVisible(): boolean {
    return this.visible
  }
  isMinimized(): boolean {
    return this.minimized
  }
  restore(): void {
    this.minimized = false
  }
  maximize(): void {}
  isMaximized(): boolean {
    return false
  }
  isDestroyed(): boolean {
    return false
  }
  setProgressBar(p: number): void {
    this.progress.push(p)
  }
  getNormalBounds(): E.Rectangle {
    return { x: 0, y: 0, width: 1000, height: 700 }
  }
  /** What the user does by clicking the window's close button. */
  userClose(): { prevented: boolean } {
    let prevented = false
    this.emit('close', { preventDefault: () => (prevented = true) })
    if (!prevented) this.emit('closed')
    return { prevented }
  }
}

export class FakeTray
  extends EventEmitter
  implements Pick<E.Tray, 'setToolTip' | 'setContextMenu' | 'destroy'>
{
  static all: FakeTray[] = []
  menu: E.MenuItemConstructorOptions[] = []
  destroyed = false
  constructor(public image: FakeImage) {
    super()
    FakeTray.all.push(this)
  }
  setToolTip(): void {}
  setContextMenu(menu: E.Menu | null): void {
    this.menu = (menu as unknown as FakeMenu | null)?.template ?? []
  }
  destroy(): void {
    this.destroyed = true
  }
}

export interface FakeImage {
  path: string | null
}
export interface FakeMenu {
  template: E.MenuItemConstructorOptions[]
}

export type InvokeHandler = (e: Partial<E.IpcMainInvokeEvent>, args: unknown) => Promise<unknown>

/** One fresh Electron per launch of the shell; the records a test reads. */
export function createFakeElectron(opts: { singleInstance?: boolean; encryption?: boolean } = {}) {
  const appEvents = new EventEmitter()
  const rec = {
    ready: false,
    privilegedSchemes: [] as E.CustomScheme[],
    protocolHandlers: new Map<string, (req: Request) => Response | Promise<Response>>(),
    ipc: new Map<string, InvokeHandler>(),
    exitCode: null as number | null,
    quitCalls: 0,
    errorBoxes: [] as string[],
    messageBoxes: [] as E.MessageBoxOptions[],
    appMenu: null as FakeMenu | null,
    paths: new Map<string, string>(),
    externalUrls: [] as string[],
    headerHooks: [] as Parameters<E.WebRequest['onHeadersReceived']>[0][]
  }
  let exited!: () => void
  const exitedPromise = new Promise<void>((r) => (exited = r))

  const app = {
    on: (event: string, cb: Listener) => {
      appEvents.on(event, cb)
      return app
    },
    once: (event: string, cb: Listener) => {
      appEvents.once(event, cb)
      return app
    },
    requestSingleInstanceLock: () => opts.singleInstance ?? true,
    quit: () => {
      rec.quitCalls++
    },
    exit: (code?: number) => {
      rec.exitCode = code ?? 0
      exited()
    },
    whenReady: async () => {
      await Promise.resolve()
      rec.ready = true
    },
    isReady: () => rec.ready,
    setPath: (name: string, p: string) => void rec.paths.set(name, p),
    getPath: (name: string) => rec.paths.get(name) ?? `/fake/${name}`,
    getVersion: () => '0.0.0-fake',
    getName: () => 'PodPull'
  } satisfies Partial<Record<keyof E.App, unknown>> &
    Pick<
      E.App,
      | 'requestSingleInstanceLock'
      | 'quit'
      | 'exit'
      | 'whenReady'
      | 'isReady'
      | 'setPath'
      | 'getPath'
      | 'getVersion'
      | 'getName'
    >

  const protocol = {
    registerSchemesAsPrivileged: (schemes: E.CustomScheme[]) => {
      // Electron throws the same way: privileged schemes only before 'ready'.
      if (rec.ready)
        throw new Error('protocol.registerSchemesAsPrivileged should be called before app is ready')
      rec.privilegedSchemes.push(...schemes)
    },
    handle: (scheme: string, handler: (req: Request) => Response | Promise<Response>) => {
      if (!rec.ready) throw new Error('protocol.handle must be called after app is ready')
      rec.protocolHandlers.set(scheme, handler)
    }
  } satisfies Partial<Record<keyof E.Protocol, unknown>> &
    Pick<E.Protocol, 'registerSchemesAsPrivileged' | 'handle'>

  const ipcMain = {
    handle: (channel: string, fn: InvokeHandler) => {
      if (rec.ipc.has(channel)) throw new Error(`second handler for ${channel}`)
      rec.ipc.set(channel, fn)
    },
    removeHandler: (channel: string) => void rec.ipc.delete(channel),
    on: () => ipcMain
  } satisfies Partial<Record<keyof E.IpcMain, unknown>> & Pick<E.IpcMain, 'removeHandler'>

  const session = {
    defaultSession: {
      webRequest: {
        onHeadersReceived: (h: Parameters<E.WebRequest['onHeadersReceived']>[0]) =>
          void rec.headerHooks.push(h)
      },
      setPermissionRequestHandler: () => undefined
    }
  }

  const Menu = {
    buildFromTemplate: (template: E.MenuItemConstructorOptions[]): FakeMenu => ({ template }),
    setApplicationMenu: (m: FakeMenu | null) => {
      rec.appMenu = m
    }
  } satisfies Partial<Record<keyof typeof E.Menu, unknown>>

  class Notification {
    static isSupported = () => true
    show(): void {}
  }

  const safeStorage = {
    isEncryptionAvailable: () => opts.encryption ?? true,
    encryptString: (s: string) => Buffer.from(`sealed:${s}`),
    decryptString: (b: Buffer) => b.toString().replace(/^sealed:/, '')
  } satisfies Pick<E.SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'>

  const dialog = {
    showErrorBox: (title: string, body: string) => void rec.errorBoxes.push(`${title}: ${body}`),
    showOpenDialog: async () => ({ canceled: true, filePaths: [] as string[] }),
    showMessageBox: async (o: E.MessageBoxOptions) => {
      rec.messageBoxes.push(o)
      return { response: 0, checkboxChecked: false }
    }
  } satisfies Partial<Record<keyof E.Dialog, unknown>>

  const shell = {
    showItemInFolder: () => undefined,
    openExternal: async (url: string) => void rec.externalUrls.push(url),
    openPath: async () => ''
  } satisfies Partial<Record<keyof E.Shell, unknown>> &
    Pick<E.Shell, 'showItemInFolder' | 'openExternal' | 'openPath'>

  const nativeImage = {
    createFromPath: (path: string): FakeImage => ({ path }),
    createEmpty: (): FakeImage => ({ path: null })
  } satisfies Partial<Record<keyof typeof E.nativeImage, unknown>>

  FakeBrowserWindow.all = []
  FakeTray.all = []
  const module = {
    app,
    protocol,
    ipcMain,
    session,
    Menu,
    Notification,
    safeStorage,
    dialog,
    shell,
    nativeImage,
    BrowserWindow: FakeBrowserWindow,
    Tray: FakeTray
  } satisfies Partial<Record<keyof typeof E, unknown>>
  return {
    module: { ...module, default: module },
    rec,
    appEvents,
    exited: exitedPromise,
    windows: () => FakeBrowserWindow.all,
    trays: () => FakeTray.all
  }
}

export type FakeElectron = ReturnType<typeof createFakeElectron>

// On globalThis, not in a module variable: each launch resets vitest's module
// registry, and the mock factory then loads a fresh copy of this file.
const holder = globalThis as { __podpullFakeElectron?: FakeElectron }
export const setCurrentElectron = (f: FakeElectron): void => {
  holder.__podpullFakeElectron = f
}

/** What `vi.mock('electron')` returns: every export forwards to the current fake. */
export function electronModuleProxy(): Record<string, unknown> {
  const names = [
    'app',
    'protocol',
    'ipcMain',
    'session',
    'Menu',
    'Notification',
    'safeStorage',
    'dialog',
    'shell',
    'nativeImage',
    'BrowserWindow',
    'Tray'
  ]
  const forward = (name: string): unknown =>
    new Proxy(function () {} as object, {
      get: (_t, p) => Reflect.get(cur().module[name as keyof FakeElectron['module']] as object, p),
      construct: (_t, args) =>
        Reflect.construct(cur().module[name as 'Tray'] as new (...a: unknown[]) => object, args),
      apply: (_t, self, args) =>
        Reflect.apply(cur().module[name as 'Tray'] as unknown as Listener, self, args)
    })
  const exports: Record<string, unknown> = Object.fromEntries(names.map((n) => [n, forward(n)]))
  return { ...exports, default: exports }
}

function cur(): FakeElectron {
  const current = holder.__podpullFakeElectron
  if (!current) throw new Error('no fake electron set: call setCurrentElectron first')
  return current
}
