#!/usr/bin/env node
// `npm start` (electron-vite preview) and `npm run dev` (electron-vite dev) go
// through here. Since Electron 45, `npm ci` no longer downloads Electron's
// binary: `require('electron')` fetches it the first time, but electron-vite
// reads node_modules/electron/path.txt itself and stops with "Electron
// uninstall" when it is not there yet. So: find the binary the way Electron
// does, fetch it with Electron's own installer when it is missing, and hand
// electron-vite the path (ELECTRON_EXEC_PATH).
//
// Usage: node scripts/launch.mjs preview|dev [electron-vite options…]
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)
const electronDir = dirname(require.resolve('electron/package.json'))
const { version } = require('electron/package.json')

/** One sentence for the user, then exit 1 (no stack: nothing here is a bug). */
function fail(sentence) {
  process.stderr.write(`\nPodPull cannot start: ${sentence}\n`)
  process.exit(1)
}

const SERVE_INSTEAD = 'or run `npm run serve` for the same dashboard in a browser, without Electron'

const readIf = (file) => (existsSync(file) ? readFileSync(file, 'utf8') : null)

/** The binary as electron/index.js finds it, or null when it is not downloaded. */
function installedBinary() {
  const inDist = readIf(join(electronDir, 'path.txt'))
  const distVersion = readIf(join(electronDir, 'dist', 'version'))
    ?.trim()
    .replace(/^v/, '')
  if (!inDist || distVersion !== version) return null
  const binary = join(electronDir, 'dist', inDist)
  return existsSync(binary) ? binary : null
}

/** Runs node_modules/electron/install.js, as `require('electron')` would. Its
 *  progress bar (on a terminal) stays the user's to see; its failure comes back
 *  on fd 3 (electron-installer-errors.mjs), to be told in one sentence. */
function runElectronInstaller() {
  process.stderr.write(
    `PodPull: Electron ${version} is not downloaded yet; fetching it once (about 100 MB) with ` +
      `Electron's installer, whose progress bar shows on a terminal once it runs past 30 s…\n`
  )
  const errorsToFd3 = pathToFileURL(join(import.meta.dirname, 'electron-installer-errors.mjs')).href
  const r = spawnSync(
    process.execPath,
    ['--import', errorsToFd3, join(electronDir, 'install.js')],
    { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] }
  )
  if (r.status === 0) return
  const firstLine = String(r.output?.[3] ?? r.error?.message ?? '')
    .trim()
    .split('\n')[0]
  const why = firstLine.replace(/^\w*Error: /, '') || `the installer exited with ${r.status}`
  fail(
    `the Electron ${version} binary is not in node_modules/electron/dist and Electron's installer ` +
      `could not download it (${why}); run \`npm start\` again once online ` +
      `(ELECTRON_MIRROR names a mirror, ELECTRON_GET_USE_PROXY=1 uses your proxy), ${SERVE_INSTEAD}.`
  )
}

/** The Electron binary to launch; fetched first when it is missing. */
function electronBinary() {
  const exec = process.env.ELECTRON_EXEC_PATH
  if (exec) {
    if (!existsSync(exec))
      fail(`ELECTRON_EXEC_PATH names ${exec}, which does not exist; unset it, ${SERVE_INSTEAD}.`)
    return exec
  }
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    // Electron's own rule: the override folder holds the binary, never fetched.
    const binary = require('electron')
    if (!existsSync(binary))
      fail(
        `ELECTRON_OVERRIDE_DIST_PATH points Electron at ${binary}, which does not exist; ` +
          `unset it, ${SERVE_INSTEAD}.`
      )
    return binary
  }
  const binary = installedBinary()
  if (binary) return binary
  runElectronInstaller()
  return (
    installedBinary() ?? fail(`Electron's installer finished but left no binary; ${SERVE_INSTEAD}.`)
  )
}

const [mode, ...rest] = process.argv.slice(2)
if (mode !== 'preview' && mode !== 'dev') fail('usage: node scripts/launch.mjs preview|dev')

const cliPath = join(
  dirname(require.resolve('electron-vite/package.json')),
  'bin',
  'electron-vite.js'
)
const child = spawn(process.execPath, [cliPath, mode, ...rest], {
  stdio: 'inherit',
  env: { ...process.env, ELECTRON_EXEC_PATH: electronBinary() }
})
child.on('error', (err) => fail(`electron-vite did not start (${err.message}).`))
// Ctrl-C reaches electron-vite and Electron directly (same process group), so
// it is only waited out here; a SIGTERM or SIGHUP sent to this process alone
// is passed on.
process.on('SIGINT', () => undefined)
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
