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
  nativeImage,
  protocol
} from 'electron'
import { dirname, join } from 'node:path'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import ElectronStore from 'electron-store'
import { createApp, type PodPullApp } from './app'
import { appHome } from './settings/appHome'
import { storeOptions, type StoreShape } from './settings/storeSchema'
import { parsedOnce } from './settings/parsedOnce'
import { memoryTokenStore, sealedTokenStore, type SecretBox } from './core/tokenStore'
import { forwardEvents, registerIpcHandlers } from './electron/ipc'
import { desktopTouches } from './electron/desktopTouches'
import {
  APP_ENTRY,
  APP_SCHEME,
  isOurPage,
  mimeType,
  routeAppRequest
} from './electron/rendererProtocol'
import { aboutText, appMenuTemplate } from './electron/appMenu'
import { hideOnClose, trayLabel, trayStep } from './electron/trayState'
import { findResource, processLayout } from './resourcePaths'
import { aboutInfo } from './core/about'
import { CSP_HEADER, forDevServer } from '../shared/csp'

const here = dirname(fileURLToPath(import.meta.url))
const rendererDir = join(here, '../renderer')

// A privileged scheme must be registered before 'ready' (Electron refuses later).
// standard: relative URLs and an origin; secure: like https; corsEnabled: the
// build's <script type="module" crossorigin> loads are CORS requests.
protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true }
  }
])

let win: BrowserWindow | null = null
let tray: Tray | null = null
/** Local downloads running now (desktopTouches keeps it current). */
let running = 0
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
  const store = parsedOnce(new ElectronStore<StoreShape>(storeOptions(appHome())))
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
      openFolder: async (path) => shell.showItemInFolder(path),
      notify: (title, body) => {
        if (Notification.isSupported()) new Notification({ title, body }).show()
      }
    }
  })
  serveRenderer(podpull)
  lockDownSessions()
  Menu.setApplicationMenu(Menu.buildFromTemplate(appMenuTemplate(showAbout)))
  registerIpcHandlers(ipcMain, podpull.handlers, (e) => trusted(e.senderFrame?.url ?? ''))
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
    quit(podpull)
  })
  app.on('activate', () => showWindow())
}

let exiting: Promise<void> | null = null
/** Pauses local downloads, then exits; once, however many quit paths fire. */
function quit(podpull: PodPullApp): void {
  quitting = true
  exiting ??= podpull
    .dispose()
    .catch((err) => console.error('PodPull: stopping downloads failed:', err))
    .finally(() => app.exit(0))
}

function rendererUrl(): string {
  return process.env.ELECTRON_RENDERER_URL ?? APP_ENTRY
}

const trusted = (url: string): boolean => isOurPage(url, process.env.ELECTRON_RENDERER_URL)

/** app://podpull/… serves files inside out/renderer only, with the one CSP,
 *  and the hub preview images main fetched (/hub-image/<id>). */
function serveRenderer(podpull: PodPullApp): void {
  protocol.handle(APP_SCHEME, async (req) => {
    const route = routeAppRequest(rendererDir, req.url)
    if (route?.kind === 'image') {
      const img = await podpull.images.get(route.id)
      if (!img) return new Response('Not found', { status: 404 })
      return new Response(new Uint8Array(img.body), {
        headers: { 'Content-Type': img.mime, 'X-Content-Type-Options': 'nosniff' }
      })
    }
    const file = route?.file
    const body = file ? await readFile(file).catch(() => null) : null
    if (!file || !body) return new Response('Not found', { status: 404 })
    return new Response(new Uint8Array(body), {
      headers: { 'Content-Type': mimeType(file), 'Content-Security-Policy': CSP_HEADER }
    })
  })
}

function showAbout(): void {
  void dialog.showMessageBox({ type: 'info', title: 'About PodPull', ...aboutText(aboutInfo()) })
}

function lockDownSessions(): void {
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    // Under `electron-vite dev` the page comes from the dev server, whose HMR needs inline styles.
    const csp = process.env.ELECTRON_RENDERER_URL ? forDevServer(CSP_HEADER) : CSP_HEADER
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } })
  })
  session.defaultSession.setPermissionRequestHandler((_wc, permission, cb) =>
    cb(permission === 'notifications')
  )
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (e, url) => {
      if (!trusted(url)) e.preventDefault()
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
    if (!hideOnClose(running, quitting)) return
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
  // Nothing running any more: with the window back, the tray has no job.
  if (tray && trayStep(running, true, true) === 'destroy') {
    tray.destroy()
    tray = null
  }
}

function updateTray(active: number, podpull: PodPullApp): void {
  running = active
  const step = trayStep(active, tray !== null, win?.isVisible() ?? false)
  if (step === 'none') return
  if (step === 'destroy') {
    tray?.destroy()
    tray = null
    return
  }
  if (step === 'create') {
    const icon = findResource('icon.png', processLayout(here))
    tray = new Tray(icon ? nativeImage.createFromPath(icon) : nativeImage.createEmpty())
    tray.setToolTip('PodPull')
    tray.on('click', () => showWindow())
  }
  tray?.setContextMenu(
    Menu.buildFromTemplate([
      { label: trayLabel(active), enabled: false },
      { label: 'Show PodPull', click: () => showWindow() },
      { label: 'Quit (pauses local downloads)', click: () => quit(podpull) }
    ])
  )
}
