// Every local download answers to every PodPull process: a `--detach` worker
// paused, resumed and cancelled from a second CLI and from `podpull serve`'s
// API, a download run by a core in this test process paused from the CLI, a
// follower that returns only when the download it follows has ended, and a
// worker killed with SIGKILL seen dead at once and resumed by `resume --detach`.
// Real processes throughout; every download is held at a gate of the model
// server until the test opens it, so nothing races the transfer.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_SETTINGS } from '../../src/shared/types'
import { LocalTarget } from '../../src/main/targets/local/localTarget'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { pollsFd } from '../harness/procTree'
import { LINK_PLACEHOLDER, READY_FD_ENV, STDIN_ENV } from '../../src/cli/detach'
import { startServe } from '../e2e/serveProcess'
import { apiClient, assertBuilt, CLI, collect, freshComfy, runCli, spawnCli } from '../support/cli'
import { childWithErrorListeners } from '../support/listeners'
import { waitFor } from '../support/wait'
import { sidecarDone } from '../support/partFiles'

const MiB = 1 << 20
let srv: ModelServer

beforeAll(async () => {
  assertBuilt()
  srv = await startModelServer()
})
afterAll(() => srv?.close())

type Entry = Record<string, unknown> & {
  id: string
  status: string
  owner: { pid: number } | null
  downloaded: number
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex')
const statusOf = (workspace: string): Record<string, Entry> => {
  try {
    return JSON.parse(readFileSync(join(workspace, '.download_status.json'), 'utf8'))
  } catch {
    return {}
  }
}
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function localTarget() {
  const c = freshComfy()
  const env = { PODPULL_HOME: c.home }
  const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', c.comfy], env)
  expect(add.code, add.stderr).toBe(0)
  return { ...c, env }
}

/** The entry at `path` once `ok` holds for it. */
function entryWhen(ws: string, path: string, what: string, ok: (e: Entry) => boolean) {
  return waitFor(() => statusOf(ws)[path], what, { until: (e) => e !== undefined && ok(e) })
}

/** Starts a `--detach` worker for `url` and waits until it runs the download. */
async function detached(t: Awaited<ReturnType<typeof localTarget>>, url: string, path: string) {
  const r = await runCli(
    ['download', url, '--target', 'studio', '--folder', 'loras', '--detach'],
    t.env
  )
  expect(r.code, r.stderr).toBe(0)
  const id = r.stdout.trim()
  expect(id).toMatch(/^[0-9a-f]{16}$/)
  const e = await entryWhen(
    t.base,
    path,
    'the worker downloading',
    (e) => e.status === 'downloading'
  )
  expect(e.id).toBe(id)
  expect(e.owner!.pid).not.toBe(process.pid)
  expectLinkNotInArgv(e.owner!.pid, url)
  return { id, pid: e.owner!.pid }
}

/** A second `download` of the same file, once it follows the worker's download
 *  and has shown it at least once (a progress line). */
async function follower(t: Awaited<ReturnType<typeof localTarget>>, url: string) {
  const p = spawnCli(['download', url, '--target', 'studio', '--folder', 'loras'], t.env)
  p.on('error', (err) => expect.fail(String(err)))
  let err = ''
  p.stderr!.on('data', (d: Buffer) => (err += d))
  const done = collect(p)
  await waitFor(() => err, 'the follower to follow', {
    until: (s) => /following it[\s\S]*%/.test(s)
  })
  return { p, done, stderr: () => err }
}

/** A worker lives as long as its download and anyone can read its argv (`ps`):
 *  the link, which may carry a signed token, must not be there. */
function expectLinkNotInArgv(pid: number, url: string): void {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
  expect(argv).toContain('--target') // the worker's own command line, read
  expect(argv.join(' ')).not.toContain(new URL(url).host)
}

describe('control from any process (local targets)', () => {
  it('a --detach worker is paused, resumed and cancelled from a second CLI', async () => {
    const t = await localTarget()
    const f = srv.addFile('/ctl/cli.safetensors', { size: 4 * MiB, seed: 'ctl1', holdAt: MiB })
    const path = join(t.models, 'loras', 'cli.safetensors')
    const w = await detached(t, `${f.url}?sig=podpull-signed`, path)

    const paused = await runCli(['pause', w.id, '--target', 'studio'], t.env)
    expect(paused.code, paused.stderr).toBe(0)
    // The command returned once the owner had acted: the file says so already.
    expect(statusOf(t.base)[path]).toMatchObject({
      status: 'paused',
      owner: null,
      interrupted: false
    })
    await waitFor(() => !alive(w.pid), 'the paused worker to exit')
    expect(existsSync(`${path}.part`)).toBe(true)

    // Resumed with a fresh link, as `--url=<link>`: not in the new worker's argv either.
    const fresh = `${f.url}?sig=podpull-signed-fresh`
    const resumed = await runCli(
      ['resume', w.id, '--target', 'studio', '--detach', `--url=${fresh}`],
      t.env
    )
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stdout).toMatch(/Resumed/)
    const again = await entryWhen(t.base, path, 'a new worker', (e) => e.status === 'downloading')
    expect(again.owner!.pid).not.toBe(w.pid)
    expectLinkNotInArgv(again.owner!.pid, fresh)

    const cancelled = await runCli(['cancel', w.id, '--target', 'studio'], t.env)
    expect(cancelled.code, cancelled.stderr).toBe(0)
    expect(statusOf(t.base)[path]).toMatchObject({ status: 'cancelled', owner: null })
    expect(existsSync(`${path}.part`)).toBe(false)
    expect(existsSync(`${path}.part.json`)).toBe(false)
  })

  it('a --detach worker waits for the whole link on its stdin, however late it comes', async () => {
    // Started as `download --detach` starts it, with its link in two halves:
    // the second (and the pipe's end) only once the worker waits on its stdin.
    // A worker that read fd 0 synchronously failed here with EAGAIN (its fd 0
    // is non-blocking once its modules are loaded).
    const t = await localTarget()
    const f = srv.addFile('/ctl/late.safetensors', { size: MiB, seed: 'ctl8' })
    const worker = childWithErrorListeners(
      spawn(
        process.execPath,
        [CLI, 'download', LINK_PLACEHOLDER, '--target', 'studio', '--folder', 'loras'],
        {
          detached: true,
          stdio: ['pipe', 'ignore', 'ignore', 'pipe'],
          env: { ...process.env, ...t.env, [READY_FD_ENV]: '3', [STDIN_ENV]: '1' }
        }
      )
    )
    let said = ''
    worker.stdio[3]!.on('data', (d: Buffer) => (said += d))
    const link = JSON.stringify({ link: f.url })
    const half = link.length >> 1
    worker.stdin!.write(link.slice(0, half))
    await waitFor(() => said || pollsFd(worker.pid!, 0), 'the worker waiting on its stdin', 60_000)
    expect(said).toBe('')
    worker.stdin!.end(link.slice(half))
    await waitFor(() => said.includes('\n'), 'the worker to say how the start went', 60_000)
    expect(JSON.parse(said)).toMatchObject({ ok: true, outcome: 'started' })
    const path = join(t.models, 'loras', 'late.safetensors')
    await entryWhen(t.base, path, 'completed', (e) => e.status === 'completed')
    expect(sha(path)).toBe(f.sha256)
  })

  it("serve's API pauses and cancels a --detach worker; the CLI cancels what serve runs", async () => {
    const t = await localTarget()
    const f = srv.addFile('/ctl/api.safetensors', { size: 4 * MiB, seed: 'ctl2', holdAt: MiB })
    const path = join(t.models, 'loras', 'api.safetensors')
    const serve = await startServe(t.env)
    try {
      const token = new URL(serve.pageUrl).searchParams.get('token')!
      const api = await apiClient(serve.url, token)
      const snap = (await api.call('getSnapshot')) as { targets: { id: string }[] }
      const targetId = snap.targets[0]!.id
      const w = await detached(t, f.url, path)

      await api.call('pauseDownload', { targetId, id: w.id })
      expect(statusOf(t.base)[path]).toMatchObject({ status: 'paused', owner: null })
      await waitFor(() => !alive(w.pid), 'the paused worker to exit')

      // Resumed from the dashboard: serve runs it now; the CLI cancels it there.
      await api.call('resumeDownload', { targetId, id: w.id })
      const inServe = await entryWhen(
        t.base,
        path,
        'serve downloading',
        (e) => e.status === 'downloading'
      )
      expect(inServe.owner!.pid).not.toBe(w.pid)
      const cancelled = await runCli(['cancel', w.id, '--target', 'studio'], t.env)
      expect(cancelled.code, cancelled.stderr).toBe(0)
      expect(statusOf(t.base)[path]).toMatchObject({ status: 'cancelled' })

      // And a fresh worker, cancelled from the dashboard.
      const w2 = await detached(t, f.url, path)
      await api.call('cancelDownload', { targetId, id: w2.id })
      expect(statusOf(t.base)[path]).toMatchObject({ status: 'cancelled', owner: null })
      expect(existsSync(`${path}.part`)).toBe(false)
      api.close()
    } finally {
      await serve.stop()
    }
  })

  it('a download run by a core in this process is paused from the CLI', async () => {
    const t = await localTarget()
    const f = srv.addFile('/ctl/app.safetensors', { size: 4 * MiB, seed: 'ctl3', holdAt: MiB })
    const settings = { ...DEFAULT_SETTINGS, connections: 1, autoResume: false }
    const app = new LocalTarget(
      { id: 'app', name: 'studio', config: { kind: 'local', comfyui: t.comfy, workspace: t.base } },
      { settings: () => settings, auth: () => undefined, authHint: () => undefined }
    )
    await app.open()
    try {
      const r = await app.start({ url: f.url, folder: 'loras' })
      await waitFor(() => app.downloads().find((d) => d.id === r.id)?.state, 'downloading', {
        until: (s) => s === 'downloading'
      })
      const paused = await runCli(['pause', r.id, '--target', 'studio'], t.env)
      expect(paused.code, paused.stderr).toBe(0)
      expect(app.downloads().find((d) => d.id === r.id)?.state).toBe('paused')
      expect(statusOf(t.base)[r.path]).toMatchObject({ status: 'paused', interrupted: false })
    } finally {
      await app.close()
    }
  })

  it('an owner that does not answer is named, and nothing changes', async () => {
    const t = await localTarget()
    const f = srv.addFile('/ctl/mute.safetensors', { size: 4 * MiB, seed: 'ctl4', holdAt: MiB })
    const path = join(t.models, 'loras', 'mute.safetensors')
    const w = await detached(t, f.url, path)
    process.kill(w.pid, 'SIGSTOP') // alive, but acting on nothing
    try {
      const r = await runCli(['pause', w.id, '--target', 'studio'], t.env)
      expect(r.code).toBe(1)
      expect(r.stderr.trim()).toMatch(new RegExp(`^Error: Process ${w.pid} .*did not answer`))
      expect(statusOf(t.base)[path]).toMatchObject({ status: 'downloading' })
    } finally {
      process.kill(w.pid, 'SIGCONT')
    }
    const r = await runCli(['cancel', w.id, '--target', 'studio'], t.env)
    expect(r.code, r.stderr).toBe(0)
  })

  it('a follower returns only once the download it follows has ended, with its outcome', async () => {
    const t = await localTarget()
    const f = srv.addFile('/ctl/follow.safetensors', { size: 4 * MiB, seed: 'ctl5', holdAt: MiB })
    const path = join(t.models, 'loras', 'follow.safetensors')
    const w = await detached(t, f.url, path)
    const fl = await follower(t, f.url)
    expect(fl.p.exitCode).toBeNull()
    srv.setFaults(f.path, { holdAt: undefined })
    const r = await fl.done
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`Saved ${path}`)
    expect(sha(path)).toBe(f.sha256)
    expect(statusOf(t.base)[path]).toMatchObject({ status: 'completed' })
    await waitFor(() => !alive(w.pid), 'the worker to exit once done')
  })

  it('a follower whose owner is killed carries the download on to the end', async () => {
    const t = await localTarget()
    const f = srv.addFile('/ctl/orphan.safetensors', { size: 4 * MiB, seed: 'ctl8', holdAt: MiB })
    const path = join(t.models, 'loras', 'orphan.safetensors')
    const w = await detached(t, f.url, path)
    const fl = await follower(t, f.url)
    process.kill(w.pid, 'SIGKILL')
    await waitFor(fl.stderr, 'the follower taking over', {
      until: (s) => /continuing it here/.test(s)
    })
    srv.setFaults(f.path, { holdAt: undefined })
    const r = await fl.done
    expect(r.code, r.stderr).toBe(0)
    expect(sha(path)).toBe(f.sha256)
  })

  it("Ctrl-C in a follower pauses the other process's download; a follower of a cancelled one exits 1", async () => {
    const t = await localTarget()
    const f = srv.addFile('/ctl/ctrlc.safetensors', { size: 4 * MiB, seed: 'ctl6', holdAt: MiB })
    const path = join(t.models, 'loras', 'ctrlc.safetensors')
    const w = await detached(t, f.url, path)
    const follow = () => follower(t, f.url)
    const a = await follow()
    a.p.kill('SIGINT')
    const ra = await a.done
    expect(ra.stderr).toMatch(/Paused; run "podpull resume/)
    expect(statusOf(t.base)[path]).toMatchObject({ status: 'paused', interrupted: false })
    await waitFor(() => !alive(w.pid), 'the worker to exit')

    const resumed = await runCli(['resume', w.id, '--target', 'studio', '--detach'], t.env)
    expect(resumed.code, resumed.stderr).toBe(0)
    await entryWhen(t.base, path, 'running again', (e) => e.status === 'downloading')
    const b = await follow()
    const cancelled = await runCli(['cancel', w.id, '--target', 'studio'], t.env)
    expect(cancelled.code, cancelled.stderr).toBe(0)
    const rb = await b.done
    expect(rb.code).toBe(1)
    expect(rb.stderr).toMatch(/cancelled/)
  })

  it('a SIGKILLed worker is seen dead at once, keeps its bytes, and resume --detach finishes it', async () => {
    const t = await localTarget()
    const size = 8 * MiB
    const f = srv.addFile('/ctl/kill.safetensors', { size, seed: 'ctl7', holdAt: 3 * MiB })
    const path = join(t.models, 'loras', 'kill.safetensors')
    const w = await detached(t, f.url, path)
    // Killed once the sidecar records all that was served: what a resume may reuse.
    await waitFor(() => sidecarDone(`${path}.part.json`), 'bytes recorded', {
      until: (n) => n >= 3 * MiB
    })
    process.kill(w.pid, 'SIGKILL')
    await waitFor(() => !alive(w.pid), 'the worker gone')
    const st = await runCli(['status', '--target', 'studio'], t.env)
    expect(st.stdout).toMatch(/paused/)
    expect(st.stdout).not.toMatch(/downloading/)
    const e = statusOf(t.base)[path]!
    expect(e).toMatchObject({ status: 'paused', file_size: size, interrupted: true })
    expect(e.downloaded).toBeGreaterThanOrEqual(3 * MiB)
    await waitFor(() => srv.openResponses(f.path) === 0, 'the killed request closed')
    srv.setFaults(f.path, { holdAt: undefined })
    const r = await runCli(['resume', w.id, '--target', 'studio', '--detach'], t.env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/Resumed/)
    await entryWhen(t.base, path, 'completed', (e) => e.status === 'completed')
    expect(sha(path)).toBe(f.sha256)
    expect(srv.bytesServed(f.path)).toBeLessThanOrEqual(size * 1.02)
  })
})
