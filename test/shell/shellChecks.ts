// What the shell must do, as checks run against a built bundle directory (the
// real out/, or a scratch copy broken on purpose). Each check launches the
// shell, asserts what a user would notice, and quits it.
import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { expect, vi } from 'vitest'
import { API_METHODS, ipcChannel } from '../../src/shared/api'
import { CSP_HEADER, CSP_META } from '../../src/shared/csp'
import { startModelServer } from '../harness/modelServer'
import { APP_PAGE, comfyInstall, launchShell, type LaunchOptions, type Shell } from './launchShell'

/** The package file that holds HELPER_VERSION. */
export const HELPER_SOURCE = join(__dirname, '../../resources/helper/podpull_helper/__init__.py')
const helperVersion = (): string =>
  /^HELPER_VERSION\s*=\s*"([^"]+)"/m.exec(readFileSync(HELPER_SOURCE, 'utf8'))![1]!

/** One window, locked down, with a preload that exists in out/preload, loading app://podpull/. */
export async function checkWindow(bundleDir: string, opts: LaunchOptions = {}): Promise<void> {
  const shell = await launchShell(bundleDir, opts)
  try {
    const wins = shell.fake.windows()
    expect(wins).toHaveLength(1)
    const prefs = wins[0]!.options.webPreferences!
    expect(prefs.contextIsolation).toBe(true)
    expect(prefs.sandbox).toBe(true)
    expect(prefs.nodeIntegration).toBe(false)
    expect(relative(join(bundleDir, 'preload'), prefs.preload!)).not.toMatch(/^\.\./)
    expect(existsSync(prefs.preload!), `preload ${prefs.preload} exists`).toBe(true)
    expect(wins[0]!.url).toBe(APP_PAGE)
    expect(shell.fake.rec.privilegedSchemes).toEqual([
      expect.objectContaining({
        scheme: 'app',
        privileges: expect.objectContaining({ standard: true, secure: true, corsEnabled: true })
      })
    ])
  } finally {
    await shell.quit()
  }
}

const UNTRUSTED_SENDERS = [
  'file:///C:/Program%20Files/PodPull/resources/app.asar/out/renderer/index.html',
  'https://evil.example/index.html',
  'app://evil/index.html',
  'app://podpull.evil.example/index.html',
  'http://127.0.0.1:5173/',
  ''
]

/** Every API method has a handler; our page is served, anyone else refused. */
export async function checkChannels(bundleDir: string, opts: LaunchOptions = {}): Promise<void> {
  const shell = await launchShell(bundleDir, opts)
  try {
    expect([...shell.fake.rec.ipc.keys()].sort()).toEqual(API_METHODS.map(ipcChannel).sort())
    expect(await shell.invoke('getSettings')).toMatchObject({ concurrency: expect.any(Number) })
    expect(await shell.invoke('getAbout')).toMatchObject({ helper: helperVersion() })
    for (const url of UNTRUSTED_SENDERS)
      await expect(shell.invoke('getSettings', {}, url), url).rejects.toThrow(/Refused/)
  } finally {
    await shell.quit()
  }
}

const ESCAPES = [
  'app://podpull/..%2fmain%2findex.js',
  'app://podpull/%2e%2e%2fmain%2findex.js',
  'app://podpull/..%5cmain%5cindex.js',
  'app://podpull/assets/..%2f..%2fmain%2findex.js',
  'app://podpull/..%2f..%2fpackage.json',
  'app://podpull/main/index.js',
  'app://podpull/%2fetc%2fpasswd',
  'app://podpull/index.html%00.js',
  'app://other/index.html'
]

/** app://podpull/ serves out/renderer with the one CSP, and nothing outside it. */
export async function checkScheme(bundleDir: string, opts: LaunchOptions = {}): Promise<void> {
  const shell = await launchShell(bundleDir, opts)
  try {
    const page = await shell.fetchScheme(APP_PAGE)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(page.headers.get('content-security-policy')).toBe(CSP_HEADER)
    const html = await page.text()
    expect(html).toContain(CSP_META)
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1]
    expect(script, 'the page loads a script').toBeTruthy()
    const js = await shell.fetchScheme(`app://podpull/${script}`)
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toMatch(/javascript/)
    for (const url of ESCAPES) {
      const res = await shell.fetchScheme(url)
      expect(res.status, url).toBe(404)
    }
  } finally {
    await shell.quit()
  }
}

async function startStalledDownload(shell: Shell) {
  const server = await startModelServer()
  // The server sends a little, then holds the rest: the download stays running
  // for as long as the test needs, whatever the machine's speed.
  const file = server.addFile('/lora.safetensors', { size: 4 << 20, stallAfterBytes: 64 << 10 })
  const target = (await shell.invoke('addTarget', {
    kind: 'local',
    name: 'studio',
    comfyui: comfyInstall(shell.home)
  })) as { id: string }
  await shell.invoke('startDownload', { targetId: target.id, url: file.url, folder: 'loras' })
  return { server, target }
}

const downloads = async (shell: Shell) =>
  ((await shell.invoke('getSnapshot')) as { downloads: { state: string; downloaded: number }[] })
    .downloads

/** Closing the window keeps downloads in the tray; quitting pauses them and exits 0. */
export async function checkQuit(bundleDir: string, opts: LaunchOptions = {}): Promise<void> {
  const shell = await launchShell(bundleDir, opts)
  const { server } = await startStalledDownload(shell)
  try {
    await vi.waitFor(async () => {
      expect((await downloads(shell))[0]).toMatchObject({ state: 'downloading' })
      expect((await downloads(shell))[0]!.downloaded).toBeGreaterThan(0)
      expect(shell.fake.trays()).toHaveLength(1)
    })
    const win = shell.fake.windows()[0]!
    win.show()
    expect(win.userClose().prevented).toBe(true)
    expect(win.isVisible()).toBe(false)
    expect((await downloads(shell))[0]!.state).toBe('downloading')

    expect((await shell.quit()).prevented).toBe(true)
    expect(shell.fake.rec.exitCode).toBe(0)
    const status = JSON.parse(readFileSync(join(shell.home, '.download_status.json'), 'utf8'))
    expect(Object.values(status)).toEqual([
      expect.objectContaining({ status: 'paused', downloaded: expect.any(Number) })
    ])
  } finally {
    await server.close()
  }
}
