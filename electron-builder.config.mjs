// electron-builder: installers (`npm run dist`: AppImage + deb, NSIS, dmg for
// the current OS) and the unpacked app (`npm run pack:dir`, offline, with a
// stub Electron). The app code goes into app.asar; the pod helper (.pyz), the model
// catalog and the tray icon stay outside it, in resources/ (process.resourcesPath),
// where src/main/resourcePaths.ts finds them.
import { existsSync } from 'node:fs'

const catalog = existsSync('resources/catalog.json')
  ? 'resources/catalog.json'
  : 'build/catalog.json'

/** @type {import('electron-builder').Configuration} */
export default {
  appId: 'dev.podpull.app',
  productName: 'PodPull',
  directories: { output: 'dist', buildResources: 'build' },
  files: [
    'out/**',
    'package.json',
    '!**/*.map',
    // Runtime dependencies ship as they are published; some carry their
    // TypeScript sources and tests, which the app never loads.
    '!**/node_modules/**/*.{ts,mts,cts,md}',
    '!**/node_modules/**/{test,tests,__tests__}/**'
  ],
  asar: true,
  extraResources: [
    // The helper zipapp `npm run build` writes (scripts/build-helper.mjs).
    { from: 'out/helper/podpull_helper.pyz', to: 'helper/podpull_helper.pyz' },
    { from: 'resources/icon.png', to: 'icon.png' },
    { from: catalog, to: 'catalog.json' }
  ],
  icon: 'build/icon.png',
  linux: {
    target: ['AppImage', 'deb'],
    icon: 'build/icons',
    category: 'Utility',
    maintainer: 'PodPull <podpull@users.noreply.github.com>'
  },
  win: { target: ['nsis'] },
  nsis: { oneClick: false, allowToChangeInstallationDirectory: true },
  mac: { target: ['dmg'], category: 'public.app-category.utilities' }
}
