// The README's quick start, run verbatim on a fresh clone as a new user would:
// install and start the app (up to Electron's launch, with a stand-in binary),
// the dashboard in a browser without Electron, and the test command. Then what
// `npm start` does when Electron's binary is missing: fetched with Electron's
// own installer (from a loopback mirror) and launched, or, when it cannot be
// fetched, one sentence that says what to do.
//
// The tests run in order on one clone: the first one installs it (`npm ci` is
// part of the README's command), the others use that install.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startElectronMirror, type ElectronMirror } from '../harness/electronMirror'
import { apiClient } from '../support/cli'
import { freshClone, quickStart, runShell, startShell, userEnv } from './freshClone'
import { readRecord, recordFile, standInDist, standInSource } from './standInElectron'

let clone = ''
let mirror: ElectronMirror | undefined
const electronVersion = (): string =>
  (
    JSON.parse(readFileSync(join(clone, 'node_modules/electron/package.json'), 'utf8')) as {
      version: string
    }
  ).version
const mainEntry = (): string =>
  join(
    clone,
    (JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as { main: string }).main
  )

beforeAll(() => {
  clone = freshClone()
})
afterAll(async () => {
  await mirror?.close()
  rmSync(dirname(clone), { recursive: true, force: true })
})

/** A loopback port nothing listens on: a mirror that cannot be reached. */
async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((res, rej) => {
    s.once('error', rej)
    s.listen(0, '127.0.0.1', res)
  })
  const { port } = s.address() as { port: number }
  await new Promise((res) => s.close(res))
  return port
}

/** stderr without npm's own report of a failed script ("npm error …"). */
const ownLines = (stderr: string): string[] =>
  stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^npm (error|ERR!)/.test(l))

describe('the README quick start, on a fresh clone', () => {
  it('installs, builds and launches Electron on the built main entry', async () => {
    const command = quickStart('npm start')
    expect(command).toMatch(/^npm ci && /)
    expect(existsSync(join(clone, 'out'))).toBe(false)
    const record = recordFile()
    const run = await runShell(
      command,
      clone,
      userEnv({ ELECTRON_OVERRIDE_DIST_PATH: standInDist(), PODPULL_STANDIN_RECORD: record })
    )
    expect(run.code, run.stderr).toBe(0)
    const launch = readRecord(record)
    expect(launch, 'the stand-in Electron was never started').not.toBeNull()
    expect(launch!.entry).toBe(mainEntry())
    expect(mainEntry()).toMatch(/out[\\/]main[\\/]index\.js$/)
    expect(existsSync(launch!.entry)).toBe(true)
  })

  it('serves the same dashboard in a browser without Electron, with the printed token', async () => {
    const p = startShell(quickStart('npm run serve'), clone, userEnv())
    try {
      const url = await new Promise<string>((res, rej) => {
        let out = ''
        p.on('error', rej)
        p.on('exit', (code) =>
          rej(new Error(`serve exited (${code}) before printing a URL: ${out}`))
        )
        p.stderr!.on('data', (d) => (out += d))
        p.stdout!.on('data', (d) => {
          out += d
          const m = /PodPull dashboard: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out)
          if (m) res(m[1]!)
        })
      })
      const page = await fetch(url)
      expect(page.status).toBe(200)
      const html = await page.text()
      expect(html).toContain('<title>PodPull</title>')
      expect(html).toContain('<div id="app">')
      // The page's API answers to the printed token (and to no other).
      const base = url.replace(/\/\?token=.*/, '')
      const token = new URL(url).searchParams.get('token')!
      const api = await apiClient(base, token)
      await expect(api.call('getSettings')).resolves.toBeTruthy()
      api.close()
      await expect(apiClient(base, `${token}x`)).rejects.toThrow(/401/)
    } finally {
      const exited = new Promise((res) => p.on('close', res))
      process.kill(-p.pid!, 'SIGTERM')
      await exited
    }
  })

  it('names as its test command exactly what CI runs', () => {
    // Running it here would run this test again, and so on: check instead that
    // it is the command .ci/run is, as npm runs it.
    const command = quickStart('npm test')
    const scripts = (
      JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>
      }
    ).scripts
    expect(command).toBe('npm test')
    expect(scripts.test).toBe('bash .ci/run')
    expect(existsSync(join(clone, '.ci/run'))).toBe(true)
  })
})

describe('npm run dev and npm start, on the fresh clone', () => {
  it('npm run dev launches Electron on the dev build, with the renderer dev server', async () => {
    const record = recordFile()
    const run = await runShell(
      'npm run dev',
      clone,
      userEnv({ ELECTRON_OVERRIDE_DIST_PATH: standInDist(), PODPULL_STANDIN_RECORD: record })
    )
    expect(run.code, run.stderr).toBe(0)
    const launch = readRecord(record)
    expect(launch, 'the stand-in Electron was never started').not.toBeNull()
    expect(launch!.entry).toBe(mainEntry())
    expect(launch!.env.ELECTRON_RENDERER_URL).toMatch(/^http:\/\/(localhost|127\.0\.0\.1):\d+\/?$/)
  })

  it('without Electron and without a way to fetch it: one sentence on what to do', async () => {
    const port = await closedPort()
    const run = await runShell(
      'npm start',
      clone,
      userEnv({
        ELECTRON_MIRROR: `http://127.0.0.1:${port}/`,
        electron_config_cache: recordFile().replace(/record\.json$/, 'cache')
      })
    )
    expect(run.code).not.toBe(0)
    const lines = ownLines(run.stderr)
    const sentence = lines.at(-1)!
    expect(sentence).toMatch(/^PodPull cannot start: /)
    expect(sentence).toContain(`Electron ${electronVersion()} binary`)
    expect(sentence).toContain('ECONNREFUSED')
    expect(sentence).toContain('npm run serve')
    expect(sentence).toMatch(/\.$/)
    // No stack trace, and nothing else but the line saying what was tried.
    expect(run.stderr).not.toMatch(/^\s+at /m)
    expect(lines).toEqual([
      expect.stringMatching(/fetching it once .*with Electron's installer/),
      sentence
    ])
  })

  it("fetches a missing Electron with Electron's own installer, then launches it", async () => {
    mirror = await startElectronMirror({
      version: electronVersion(),
      files: { electron: [standInSource(), 0o755], version: [`v${electronVersion()}`, 0o644] }
    })
    const record = recordFile()
    const run = await runShell(
      'npm start',
      clone,
      userEnv({
        ELECTRON_MIRROR: mirror.url,
        electron_use_remote_checksums: '1',
        electron_config_cache: recordFile().replace(/record\.json$/, 'cache'),
        PODPULL_STANDIN_RECORD: record
      })
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/fetching it once .*with Electron's installer/)
    expect(mirror.requests.filter((r) => r.endsWith('.zip'))).toHaveLength(1)
    expect(readFileSync(join(clone, 'node_modules/electron/path.txt'), 'utf8')).toBe('electron')
    const launch = readRecord(record)
    expect(launch, 'the fetched Electron was never started').not.toBeNull()
    expect(launch!.entry).toBe(mainEntry())
  })
})
