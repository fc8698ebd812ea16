// The Electron shell: window, tray, taskbar progress, notifications and IPC
// wiring. Everything else lives in the Electron-free core (src/main/app.ts),
// which the CLI and headless server run too — keep this file thin.
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  safeStorage,
  session,
  shell,
  Tray,
  nativeImage
} from 'electron'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ElectronStore from 'electron-store'
import { createApp, type PodPullApp } from './app'
import { appHome } from './settings/appHome'
import { storeOptions, type StoreShape } from './settings/storeSchema'
import { memoryTokenStore, sealedTokenStore, type SecretBox } from './core/tokenStore'
import { forwardEvents, registerIpcHandlers } from './electron/ipc'
import { desktopTouches } from './core/desktopTouches'

const here = dirname(fileURLToPath(import.meta.url))

const CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'"

let win: BrowserWindow | null = null
let tray: Tray | null = null
let quitting = false

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => showWindow())
  app
    .whenReady()
    .then(start)
    .catch((err) => {
      dialog.showErrorBox(
        'PodPull could not start',
        String(err instanceof Error ? err.message : err)
      )
      app.quit()
    })
}

function secretBox(): SecretBox | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined
  return {
    encrypt: (plain) => safeStorage.encryptString(plain).toString('base64'),
    decrypt: (sealed) => safeStorage.decryptString(Buffer.from(sealed, 'base64'))
  }
}

async function start(): Promise<void> {
  app.setPath('userData', appHome())
  const store = new ElectronStore<StoreShape>(storeOptions(appHome()))
  const box = secretBox()
  const tokens = box
    ? sealedTokenStore(
        box,
        () => store.get('tokens'),
        (t) => store.set('tokens', t)
      )
    : memoryTokenStore()
  const podpull = await createApp({
    store,
    host: 'electron',
    tokens,
    secretBox: box,
    native: {
      pickFolder: async (title) => {
        const r = await dialog.showOpenDialog({
          title: title ?? 'Choose a folder',
          properties: ['openDirectory']
        })
        return r.canceled ? null : (r.filePaths[0] ?? null)
      },
      openFolder: async (path) => shell.showItemInFolder(path)
    }
  })
  lockDownSessions()
  registerIpcHandlers(ipcMain, podpull.handlers, (e) => isOurPage(e.senderFrame?.url ?? ''))
  forwardEvents(podpull.core, () => win?.webContents ?? null)
  desktopTouches(podpull.core, {
    notify: (title, body) => {
      if (Notification.isSupported()) new Notification({ title, body }).show()
    },
    progress: (fraction) => win?.setProgressBar(fraction === null ? -1 : fraction),
    activeChanged: (active) => updateTray(active, podpull)
  })
  createWindow(store)
  app.on('before-quit', () => {
    quitting = true
  })
  app.on('will-quit', (e) => {
    // Leave local downloads paused and resumable, not half-written.
    e.preventDefault()
    podpull.dispose().finally(() => app.exit(0))
  })
  app.on('activate', () => showWindow())
}

function rendererUrl(): string {
  return process.env.ELECTRON_RENDERER_URL ?? `file://${join(here, '../renderer/index.html')}`
}

function isOurPage(url: string): boolean {
  const dev = process.env.ELECTRON_RENDERER_URL
  if (dev) return url.startsWith(dev)
  return url.startsWith(`file://${join(here, '../renderer/')}`)
}

function lockDownSessions(): void {
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } })
  })
  session.defaultSession.setPermissionRequestHandler((_wc, permission, cb) =>
    cb(permission === 'notifications')
  )
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (e, url) => {
      if (!isOurPage(url)) e.preventDefault()
    })
    contents.setWindowOpenHandler(({ url }) => {
      // Links to model pages open in the user's browser, never inside the app.
      if (/^https?:\/\//.test(url)) void shell.openExternal(url)
      return { action: 'deny' }
    })
  })
}

function createWindow(store: ElectronStore<StoreShape>): void {
  const bounds = store.get('window')
  win = new BrowserWindow({
    ...bounds,
    minWidth: 760,
    minHeight: 480,
    show: false,
    backgroundColor: '#202020',
    title: 'PodPull',
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true
    }
  })
  if (bounds.maximized) win.maximize()
  win.once('ready-to-show', () => win?.show())
  const saveBounds = (): void => {
    if (!win || win.isDestroyed()) return
    store.set('window', { ...win.getNormalBounds(), maximized: win.isMaximized() })
  }
  win.on('resize', saveBounds)
  win.on('move', saveBounds)
  win.on('close', (e) => {
    if (quitting || !tray) return
    // Downloads are running: keep them going in the tray rather than killing them.
    e.preventDefault()
    win?.hide()
  })
  win.on('closed', () => {
    win = null
  })
  void win.loadURL(rendererUrl())
}

function showWindow(): void {
  if (!win) return
  if (win.isMinimized()) win.restore()
  win.show()
  win.focus()
}

function updateTray(active: number, podpull: PodPullApp): void {
  if (active > 0 && !tray) {
    tray = new Tray(nativeImage.createFromPath(join(here, '../../resources/icon.png')))
    tray.setToolTip('PodPull — downloads running')
    tray.on('click', () => showWindow())
  }
  if (!tray) return
  if (active === 0 && !win?.isVisible()) {
    tray.destroy()
    tray = null
    return
  }
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: `${active} download${active === 1 ? '' : 's'} running`, enabled: false },
      { label: 'Show PodPull', click: () => showWindow() },
      {
        label: 'Quit (pauses local downloads)',
        click: () => {
          quitting = true
          void podpull.dispose().finally(() => app.exit(0))
        }
      }
    ])
  )
}
