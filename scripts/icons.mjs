// Renders every icon from the one source image, resources/icon.svg, with
// resvg. `npm run build` writes the tray icon (resources/icon.png, 64 px);
// `pack:dir` / `dist` also write build/icons/<n>x<n>.png for Linux and
// build/icon.png (512 px), from which electron-builder makes the Windows .ico
// and the macOS .icns. None of these files is committed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Resvg } from '@resvg/resvg-js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

function render(size) {
  const svg = readFileSync(join(ROOT, 'resources', 'icon.svg'))
  return new Resvg(svg, { fitTo: { mode: 'width', value: size } }).render().asPng()
}

/** The tray / window icon beside the helper, where resourcePaths.ts finds it. */
export function writeTrayIcon() {
  writeFileSync(join(ROOT, 'resources', 'icon.png'), render(64))
}

/** The installers' icons. */
export function writeAppIcons() {
  mkdirSync(join(ROOT, 'build', 'icons'), { recursive: true })
  for (const size of [16, 32, 48, 64, 128, 256, 512])
    writeFileSync(join(ROOT, 'build', 'icons', `${size}x${size}.png`), render(size))
  writeFileSync(join(ROOT, 'build', 'icon.png'), render(512))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeTrayIcon()
  writeAppIcons()
  console.log(
    'icons: resources/icon.png, build/icon.png and build/icons/*.png from resources/icon.svg'
  )
}
