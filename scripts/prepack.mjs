// Prepares what electron-builder packs and can't find by itself: the icons
// (rendered from resources/icon.svg), a placeholder model catalog when
// resources/catalog.json isn't there yet, and, for `pack:dir`, a stub Electron
// (build/electron-stub) so packing runs offline — the real Electron binary
// can't be downloaded on every machine, and `dist` uses the real one.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeAppIcons, writeTrayIcon } from './icons.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
writeTrayIcon()
writeAppIcons()

if (!existsSync(join(root, 'resources', 'catalog.json'))) {
  writeFileSync(join(root, 'build', 'catalog.json'), '{"models": []}\n')
  console.log('catalog: resources/catalog.json is absent; packing an empty placeholder')
}

if (process.argv.includes('--stub-electron')) {
  const stub = join(root, 'build', 'electron-stub')
  mkdirSync(join(stub, 'resources'), { recursive: true })
  // Same file names as an Electron release for Linux; electron-builder renames
  // `electron` to the product's executable.
  const exe = join(stub, 'electron')
  writeFileSync(
    exe,
    '#!/bin/sh\necho "stub Electron: pack:dir output is for inspection, not to run" >&2\nexit 1\n'
  )
  chmodSync(exe, 0o755)
  writeFileSync(join(stub, 'LICENSE'), 'stub\n')
  writeFileSync(join(stub, 'LICENSES.chromium.html'), '<p>stub</p>\n')
  writeFileSync(join(stub, 'version'), '45.4.1')
  console.log(`electron: stub at ${stub}`)
}
