// The Electron shell, proven on the bundle the build produced: out/main/index.js
// runs under Node against a fake `electron` module (fakeElectron.ts), and the
// tests drive its life cycle as a user and the OS would. Run after
// `npm run build` (the shell project of vitest; .ci/run does this).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { strToU8, zipSync } from 'fflate'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { checkChannels, checkQuit, checkScheme, checkWindow, HELPER_SOURCE } from './shellChecks'
import { comfyInstall, launchShell } from './launchShell'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { FakeWebContents } from './fakeElectron'
import type { TokenStatus } from '../../src/shared/types'

vi.mock('electron', async () => (await import('./fakeElectron')).electronModuleProxy())

const OUT = join(__dirname, '../../out')
const RESOURCES = join(__dirname, '../../resources')

beforeAll(() => {
  if (!existsSync(join(OUT, 'main', 'index.js')))
    throw new Error('out/main/index.js is missing: run `npm run build` before the shell tests')
})

describe('Electron shell (built bundle, fake electron)', () => {
  it('opens one sandboxed, isolated window whose preload exists, on app://podpull/', () =>
    checkWindow(OUT))

  it('has a handler for every API method and refuses any other sender', () => checkChannels(OUT))

  it('serves only files inside out/renderer over app://, with the one CSP', () => checkScheme(OUT))

  it('keeps downloads running in the tray when the window closes; quitting pauses them and exits', () =>
    checkQuit(OUT))

  it('the tray menu quits too: downloads pause and the app exits', async () => {
    const shell = await launchShell(OUT)
    const server = await trayAppears(shell)
    const menu = shell.fake.trays()[0]!.menu
    expect(menu[0]!.label).toBe('1 download running')
    const quit = menu.find((i) => /^Quit/.test(i.label ?? ''))!
    quit.click!({} as never, undefined, {} as never)
    await vi.waitFor(() => expect(shell.fake.rec.exitCode).toBe(0))
    const status = JSON.parse(readFileSync(join(shell.home, '.download_status.json'), 'utf8'))
    expect(Object.values(status)).toEqual([expect.objectContaining({ status: 'paused' })])
    await server.close()
  })

  it('downloads that stop while the window is hidden leave the tray to bring it back', async () => {
    const shell = await launchShell(OUT)
    const server = await trayAppears(shell)
    const win = shell.fake.windows()[0]!
    win.show()
    expect(win.userClose().prevented).toBe(true)
    const snap = (await shell.invoke('getSnapshot')) as {
      downloads: { id: string; targetId: string }[]
    }
    const { id, targetId } = snap.downloads[0]!
    await shell.invoke('cancelDownload', { targetId, id })
    const tray = shell.fake.trays()[0]!
    await vi.waitFor(() => expect(tray.menu[0]?.label).toBe('No downloads running'))
    expect(tray.destroyed).toBe(false)
    tray.emit('click')
    expect(win.isVisible()).toBe(true)
    expect(tray.destroyed).toBe(true)
    await shell.quit()
    await server.close()
  })

  it('with nothing running, closing the window closes it (no tray)', async () => {
    const shell = await launchShell(OUT)
    expect(shell.fake.windows()[0]!.userClose().prevented).toBe(false)
    expect(shell.fake.trays()).toHaveLength(0)
    await shell.quit()
  })

  it('pages never navigate away from app://podpull; links open in the browser', async () => {
    const shell = await launchShell(OUT)
    const contents = new FakeWebContents()
    shell.fake.appEvents.emit('web-contents-created', {}, contents)
    const navigate = (url: string): boolean => {
      let prevented = false
      contents.emit('will-navigate', { preventDefault: () => (prevented = true) }, url)
      return prevented
    }
    expect(navigate('https://evil.example/')).toBe(true)
    expect(navigate('file:///etc/passwd')).toBe(true)
    expect(navigate('app://podpull/index.html')).toBe(false)
    const open = contents.windowOpenHandler!
    expect(open({ url: 'https://huggingface.co/x' } as never)).toEqual({ action: 'deny' })
    expect(shell.fake.rec.externalUrls).toEqual(['https://huggingface.co/x'])
    expect(open({ url: 'file:///etc/passwd' } as never)).toEqual({ action: 'deny' })
    expect(shell.fake.rec.externalUrls).toHaveLength(1)
    await shell.quit()
  })

  it('a second instance quits at once and the first one comes to the front', async () => {
    const second = await launchShell(OUT, { singleInstance: false })
    await vi.waitFor(() => expect(second.fake.rec.quitCalls).toBe(1))
    expect(second.fake.windows()).toHaveLength(0)

    const first = await launchShell(OUT)
    const win = first.fake.windows()[0]!
    win.minimized = true
    first.fake.appEvents.emit('second-instance')
    expect(win.isMinimized()).toBe(false)
    expect(win.isVisible()).toBe(true)
    expect(win.focused).toBe(1)
    await first.quit()
  })

  it('finds the tray icon and the helper in the packaged layout (process.resourcesPath)', async () => {
    // electron-builder's extraResources put them here, outside app.asar.
    const resources = mkdtempSync(join(tmpdir(), 'podpull-resources-'))
    mkdirSync(join(resources, 'helper'))
    const pyz = zipSync({ 'podpull_helper/__init__.py': strToU8('HELPER_VERSION = "9.9.9"\n') })
    writeFileSync(join(resources, 'helper', 'podpull_helper.pyz'), pyz)
    cpSync(join(RESOURCES, 'icon.png'), join(resources, 'icon.png'))
    const shell = await launchShell(OUT, { resourcesPath: resources })
    expect(await shell.invoke('getAbout')).toMatchObject({ helper: '9.9.9' })
    const server = await trayAppears(shell)
    expect(shell.fake.trays()[0]!.image.path).toBe(join(resources, 'icon.png'))
    await shell.quit()
    await server.close()
  })

  it('finds the tray icon and the helper in the dev layout (beside out/)', async () => {
    const shell = await launchShell(OUT)
    expect(await shell.invoke('getAbout')).toMatchObject({ helper: expect.any(String) })
    const server = await trayAppears(shell)
    expect(shell.fake.trays()[0]!.image.path).toBe(join(RESOURCES, 'icon.png'))
    await shell.quit()
    await server.close()
  })

  it('without OS encryption a token is kept for this session only, and the UI is told so', async () => {
    const shell = await launchShell(OUT, { encryption: false })
    // The UI learns there is no keyring (it says what won't be remembered).
    const before = (await shell.invoke('getTokenStatus')) as TokenStatus
    expect(before).toMatchObject({ editable: true, hf: false })
    expect(before.keyring).toBeFalsy()
    const after = (await shell.invoke('setToken', {
      kind: 'hf',
      value: 'hf_secret'
    })) as TokenStatus
    expect(after).toMatchObject({ hf: true })
    expect(after.keyring).toBeFalsy()
    await shell.quit()
    // Nothing secret reached the disk for a restart to find.
    const cfg = join(shell.home, 'config.json')
    expect(existsSync(cfg) ? readFileSync(cfg, 'utf8') : '').not.toContain('hf_secret')
  })

  it('the app menu has an About entry showing every version and where settings live', async () => {
    const shell = await launchShell(OUT)
    const items = shell.fake.rec.appMenu!.template.flatMap((m) =>
      Array.isArray(m.submenu) ? m.submenu : []
    )
    const about = items.find((i) => i.label === 'About PodPull')!
    about.click!({} as never, undefined, {} as never)
    await vi.waitFor(() => expect(shell.fake.rec.messageBoxes).toHaveLength(1))
    const box = shell.fake.rec.messageBoxes[0]!
    expect(box.message).toMatch(/^PodPull \d+\.\d+\.\d+/)
    expect(box.detail).toContain(`Node ${process.versions.node}`)
    expect(box.detail).toContain(join(shell.home, 'config.json'))
    expect(HELPER_SOURCE).toBeTruthy()
    await shell.quit()
  })
})

/** Starting a download makes the tray appear; a stalled server keeps it running. */
async function trayAppears(shell: Awaited<ReturnType<typeof launchShell>>): Promise<ModelServer> {
  const server = await startModelServer()
  const file = server.addFile('/a.safetensors', { size: 1 << 20, stallAfterBytes: 1024 })
  const t = (await shell.invoke('addTarget', {
    kind: 'local',
    name: 'studio',
    comfyui: comfyInstall(shell.home)
  })) as { id: string }
  await shell.invoke('startDownload', { targetId: t.id, url: file.url, folder: 'loras' })
  await vi.waitFor(() => expect(shell.fake.trays()).toHaveLength(1))
  return server
}
