// What `npm run pack:dir` produced (dist/*-unpacked, packed with a stub
// Electron): app.asar holds the built app and its runtime dependencies only,
// and the helper, catalog and tray icon sit in resources/ outside the asar,
// where the packaged shell looks for them (process.resourcesPath).
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { extractAll, listPackage } from '@electron/asar'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { checkChannels, checkScheme, checkWindow } from './shellChecks'
import { buildHelper } from '../../scripts/build-helper.mjs'

vi.mock('electron', async () => (await import('./fakeElectron')).electronModuleProxy())

const ROOT = join(__dirname, '../..')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}

let resources = ''
let files: string[] = []

beforeAll(() => {
  const unpacked = existsSync(join(ROOT, 'dist'))
    ? readdirSync(join(ROOT, 'dist')).filter((d) => d.endsWith('-unpacked'))
    : []
  if (unpacked.length !== 1)
    throw new Error(
      `expected one dist/*-unpacked folder, found [${unpacked}]: run npm run pack:dir`
    )
  resources = join(ROOT, 'dist', unpacked[0]!, 'resources')
  files = listPackage(join(resources, 'app.asar'), { isPack: false }).map((f) =>
    f.replaceAll('\\', '/')
  )
})

describe('the packed app (pack:dir)', () => {
  it('app.asar holds the built main, preload and renderer', () => {
    for (const f of [
      '/package.json',
      '/out/main/index.js',
      '/out/preload/index.cjs',
      '/out/renderer/index.html'
    ])
      expect(files).toContain(f)
    expect(files.some((f) => /^\/out\/renderer\/assets\/.+\.js$/.test(f))).toBe(true)
  })

  it('app.asar has no tests, no TypeScript sources and no dev dependencies', () => {
    expect(files.filter((f) => /^\/(test|src|bench|scripts|resources)\//.test(f))).toEqual([])
    expect(files.filter((f) => /\.(ts|tsx|vue)$/.test(f) && !f.endsWith('.d.ts'))).toEqual([])
    const topLevel = new Set(
      files.map((f) => /^\/node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(f)?.[1]).filter(Boolean)
    )
    const devOnly = Object.keys(pkg.devDependencies).filter((d) => !(d in pkg.dependencies))
    expect(devOnly.filter((d) => topLevel.has(d))).toEqual([])
    expect(topLevel.has('electron-store')).toBe(true)
    expect(topLevel.has('ssh2')).toBe(true)
  })

  it('the pod helper sits outside the asar: the .pyz a build of the sources gives', () => {
    expect(files.some((f) => /podpull_helper/.test(f))).toBe(false)
    const packed = readFileSync(join(resources, 'helper', 'podpull_helper.pyz'))
    expect(packed.equals(buildHelper())).toBe(true)
  })

  it('the model catalog and the tray icon sit outside the asar too', () => {
    const catalog = readFileSync(join(resources, 'catalog.json'), 'utf8')
    expect(() => JSON.parse(catalog)).not.toThrow()
    const source = join(ROOT, 'resources', 'catalog.json')
    if (existsSync(source)) expect(catalog).toBe(readFileSync(source, 'utf8'))
    expect(existsSync(join(resources, 'icon.png'))).toBe(true)
  })
})

describe('the packed app runs from its own files', () => {
  // The asar extracted as is: its out/ with the node_modules electron-builder
  // chose, and the resources beside it as process.resourcesPath.
  let app = ''
  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'podpull-packed-'))
    extractAll(join(resources, 'app.asar'), app)
  })

  it('opens its window with a preload that exists inside the package', () =>
    checkWindow(join(app, 'out'), { resourcesPath: resources }))

  it('answers every API method, with the helper found in resources/', () =>
    checkChannels(join(app, 'out'), { resourcesPath: resources }))

  it('serves its renderer over app:// and nothing else', () =>
    checkScheme(join(app, 'out'), { resourcesPath: resources }))
})
