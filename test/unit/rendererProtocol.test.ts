// The app:// scheme's decisions: which file a request names (never one outside
// out/renderer, wherever PodPull is installed) and which senders are ours.
import { posix, win32 } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  APP_ENTRY,
  isOurPage,
  mimeType,
  resolveRendererFile
} from '../../src/main/electron/rendererProtocol'

const INSTALLS = [
  {
    name: 'Windows',
    path: win32,
    dir: 'C:\\Program Files\\PodPull\\resources\\app.asar\\out\\renderer'
  },
  {
    name: 'Windows, non-ASCII user',
    path: win32,
    dir: 'C:\\Users\\Zoë Müller\\AppData\\Local\\Programs\\PodPull\\resources\\app.asar\\out\\renderer'
  },
  {
    name: 'macOS',
    path: posix,
    dir: '/Applications/PodPull.app/Contents/Resources/app.asar/out/renderer'
  },
  {
    name: 'Linux, spaces and CJK',
    path: posix,
    dir: '/home/ana/my apps/模型/PodPull/resources/app.asar/out/renderer'
  }
]

describe.each(INSTALLS)('app:// files installed under $name', ({ path, dir }) => {
  it('serves the page and its assets from inside out/renderer', () => {
    expect(resolveRendererFile(dir, APP_ENTRY, path)).toBe(path.join(dir, 'index.html'))
    expect(resolveRendererFile(dir, 'app://podpull/', path)).toBe(path.join(dir, 'index.html'))
    expect(resolveRendererFile(dir, 'app://podpull/assets/index-x1.js?v=1#h', path)).toBe(
      path.join(dir, 'assets', 'index-x1.js')
    )
    expect(resolveRendererFile(dir, 'app://podpull/assets/caf%C3%A9%20font.woff2', path)).toBe(
      path.join(dir, 'assets', 'café font.woff2')
    )
  })

  it.each([
    'app://podpull/..%2fmain%2findex.js',
    'app://podpull/..%5cmain%5cindex.js',
    'app://podpull/%2e%2e%2f%2e%2e%2fpackage.json',
    'app://podpull/assets/..%2F..%2F..%2Fapp.asar',
    'app://podpull/C:%5cWindows%5cwin.ini',
    'app://podpull/C:/Windows/win.ini',
    'app://podpull/%2fetc%2fpasswd',
    'app://podpull/index.html%00.png',
    'app://podpull/%E0%A4%A',
    'app://evil/index.html',
    'file:///etc/passwd',
    'not a url'
  ])('refuses %s', (url) => {
    expect(resolveRendererFile(dir, url, path)).toBeNull()
  })
})

describe('the sender check is an origin comparison', () => {
  it('trusts our scheme whatever the install path', () => {
    expect(isOurPage('app://podpull/index.html')).toBe(true)
    expect(isOurPage('app://podpull/index.html#/settings')).toBe(true)
  })

  it.each([
    // What Chromium reports for a file:// page in a Windows install with spaces.
    'file:///C:/Program%20Files/PodPull/resources/app.asar/out/renderer/index.html',
    'file:///home/ana/my%20apps/%E6%A8%A1%E5%9E%8B/out/renderer/index.html',
    'app://podpull.evil.example/index.html',
    'app://user@podpull/index.html',
    'app://podpull:8080/index.html',
    'app://evil/index.html',
    'https://podpull/index.html',
    'devtools://devtools/bundled/inspector.html',
    ''
  ])('refuses %s', (url) => {
    expect(isOurPage(url)).toBe(false)
  })

  it('under electron-vite dev, trusts exactly the dev server origin', () => {
    const dev = 'http://localhost:5173/'
    expect(isOurPage('http://localhost:5173/index.html', dev)).toBe(true)
    expect(isOurPage('http://localhost:5174/index.html', dev)).toBe(false)
    expect(isOurPage('app://podpull/index.html', dev)).toBe(false)
  })
})

it('names the content types the page needs', () => {
  expect(mimeType('index.html')).toMatch(/^text\/html/)
  expect(mimeType('a.JS')).toMatch(/javascript/)
  expect(mimeType('a.css')).toMatch(/^text\/css/)
  expect(mimeType('a.bin')).toBe('application/octet-stream')
})
