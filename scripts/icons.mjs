// Renders the app icons from the one source image (resources/icon.svg) with
// resvg: build/icons/<n>x<n>.png for Linux and build/icon.png (512 px), from
// which electron-builder makes the Windows .ico and macOS .icns. Nothing here
// is committed; `pack:dir` and `dist` run this first.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Resvg } from '@resvg/resvg-js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const svg = readFileSync(join(root, 'resources', 'icon.svg'))
const render = (size) => new Resvg(svg, { fitTo: { mode: 'width', value: size } }).render().asPng()

mkdirSync(join(root, 'build', 'icons'), { recursive: true })
for (const size of [16, 32, 48, 64, 128, 256, 512])
  writeFileSync(join(root, 'build', 'icons', `${size}x${size}.png`), render(size))
writeFileSync(join(root, 'build', 'icon.png'), render(512))
console.log('icons: build/icon.png and build/icons/*.png from resources/icon.svg')
