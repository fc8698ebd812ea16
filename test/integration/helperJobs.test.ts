// The pod helper's job life cycle, as the app drives it over SSH: a worker that
// outlives its session, pause/resume and kill -9/resume with Range, tokens kept
// out of every place a user (or another user on the pod) could read them, and
// hostile names that never reach a shell.
import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  writeFileSync
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { serverAndScratch } from '../support/serverScratch'
import { DEFAULT_LAST_MODIFIED, contentOf } from '../harness/modelServer'
import { isGone } from '../harness/procTree'
import { waitFor } from '../support/wait'
import {
  FAST,
  HELPER_PATH,
  readStatusFile,
  runHelper,
  waitForState,
  type StatusEntry
} from '../conformance/helperDriver'
import { childWithErrorListeners } from '../support/listeners'

const MiB = 1 << 20
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const fx = serverAndScratch('podpull-helper-jobs-')
let n = 0

function dirs() {
  const base = join(fx.root, `t${++n}`)
  const workspace = join(base, 'workspace')
  const modelsDir = join(workspace, 'ComfyUI', 'models')
  mkdirSync(modelsDir, { recursive: true })
  return { workspace, modelsDir }
}

function startReq(d: ReturnType<typeof dirs>, url: string, over: Record<string, unknown> = {}) {
  return {
    workspace: d.workspace,
    models_dir: d.modelsDir,
    url,
    folder: 'checkpoints',
    connections: 1,
    tokens: {},
    ...FAST,
    ...over
  }
}

const entryOf = (workspace: string, id: string): StatusEntry | undefined =>
  Object.values(readStatusFile(workspace)).find((e) => e.id === id)

describe('pod helper jobs', () => {
  it('the worker is detached: it survives its session being killed and finishes', async () => {
    const d = dirs()
    const f = fx.srv.addFile('/jobs/detach.safetensors', { size: 3 * MiB, holdAt: MiB })
    // A session: a shell in its own process group that runs `start`, then lingers.
    const session = childWithErrorListeners(
      spawn('bash', ['-c', `python3 "$0" start; echo done; exec sleep 60`, HELPER_PATH], {
        detached: true,
        stdio: ['pipe', 'pipe', 'ignore']
      })
    )
    let out = ''
    session.stdout.on('data', (b: Buffer) => (out += b.toString()))
    session.stdin.end(JSON.stringify(startReq(d, f.url)))
    await waitFor(() => out.includes('done'), 'the start answer')
    const answer = JSON.parse(out.split('\n')[0]!) as { ok: boolean; id: string }
    expect(answer.ok).toBe(true)
    const owner = (await waitFor(() => entryOf(d.workspace, answer.id)?.owner, 'an owner')).pid
    // What an SSH disconnect does to the session: HUP, then KILL, to the whole group.
    process.kill(-session.pid!, 'SIGHUP')
    process.kill(-session.pid!, 'SIGKILL')
    await waitFor(() => isGone(session.pid!), 'the session gone')
    expect(isGone(owner)).toBe(false)
    // Its own session, stdio on /dev/null: nothing ties it to the SSH channel.
    const sid = Number(readFileSync(`/proc/${owner}/stat`, 'utf8').split(') ')[1]!.split(' ')[3])
    expect(sid).not.toBe(session.pid)
    for (const fd of [0, 1, 2]) expect(readlinkSync(`/proc/${owner}/fd/${fd}`)).toBe('/dev/null')
    fx.srv.setFaults(f.path, { holdAt: undefined })
    const e = await waitForState(d.workspace, answer.id, ['completed', 'error'])
    expect(e.status).toBe('completed')
    expect(readFileSync(join(d.modelsDir, 'checkpoints', 'detach.safetensors')).length).toBe(f.size)
  })

  it('pause keeps the .part, resume continues with Range: ≤ 1.02× the size fetched', async () => {
    const d = dirs()
    const f = fx.srv.addFile('/jobs/pause.safetensors', { size: 4 * MiB, holdAt: 2 * MiB })
    const a = await runHelper('start', startReq(d, f.url))
    expect(a.ok).toBe(true)
    const id = a.id as string
    await waitFor(() => (entryOf(d.workspace, id)?.downloaded ?? 0) >= MiB, '1 MiB down')
    expect(await runHelper('pause', { workspace: d.workspace, id })).toEqual({ ok: true })
    const paused = entryOf(d.workspace, id)!
    expect(paused).toMatchObject({ status: 'paused', resumable: true, owner: null })
    const final = a.path as string
    expect(existsSync(final + '.part')).toBe(true)
    const sidecar = JSON.parse(readFileSync(final + '.part.json', 'utf8'))
    expect(sidecar).toMatchObject({ version: 1, id, size: f.size, final_path: final })
    // Really stopped: its request hung up, so opening the gate sends nothing more.
    await waitFor(() => fx.srv.openResponses(f.path) === 0, 'the request closed')
    const served = fx.srv.bytesServed(f.path)
    fx.srv.setFaults(f.path, { holdAt: undefined })
    expect(fx.srv.bytesServed(f.path)).toBe(served)

    const r = await runHelper('resume', { workspace: d.workspace, id, tokens: {} })
    expect(r).toMatchObject({ ok: true, id, outcome: 'started' })
    expect((await waitForState(d.workspace, id, ['completed', 'error'])).status).toBe('completed')
    expect(fx.srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size * 1.02)
    const last = fx.srv.requestsFor(f.path).at(-1)!
    expect(last.headers.range).toMatch(/^bytes=\d+-/)
    expect(last.headers['if-range']).toBeTruthy()
    expect(existsSync(final + '.part.json')).toBe(false)
  })

  it('pause right after start: paused, not killed', async () => {
    const d = dirs()
    const f = fx.srv.addFile('/jobs/early.safetensors', { size: 2 * MiB, holdAt: MiB })
    const a = await runHelper('start', startReq(d, f.url, { filename: 'early.safetensors' }))
    const id = a.id as string
    expect(await runHelper('pause', { workspace: d.workspace, id })).toEqual({ ok: true })
    expect(entryOf(d.workspace, id)).toMatchObject({ status: 'paused', owner: null, error: null })
    // Cancelling a paused job (no worker) discards what it had.
    expect(await runHelper('cancel', { workspace: d.workspace, id })).toEqual({ ok: true })
    expect(entryOf(d.workspace, id)).toMatchObject({ status: 'cancelled', resumable: false })
    expect(existsSync((a.path as string) + '.part')).toBe(false)
    expect(existsSync((a.path as string) + '.part.json')).toBe(false)
  })

  it('pause/resume with 4 connections: every segment continues where it stopped', async () => {
    const d = dirs()
    // Every segment's response stops after 1 MiB until resumed.
    const f = fx.srv.addFile('/jobs/segs.safetensors', { size: 20 * MiB, holdAfterBytes: MiB })
    const a = await runHelper('start', startReq(d, f.url, { connections: 4, sha256: f.sha256 }))
    const id = a.id as string
    await waitFor(() => (entryOf(d.workspace, id)?.downloaded ?? 0) >= 4 * MiB, '4 MiB down')
    expect(await runHelper('pause', { workspace: d.workspace, id })).toEqual({ ok: true })
    const sc = JSON.parse(readFileSync((a.path as string) + '.part.json', 'utf8')) as {
      segments: { start: number; end: number; done: number }[]
    }
    expect(sc.segments).toHaveLength(4)
    expect(sc.segments.filter((x) => x.done > 0)).toHaveLength(4)
    await waitFor(() => fx.srv.openResponses(f.path) === 0, 'the paused requests closed')
    fx.srv.setFaults(f.path, { holdAfterBytes: undefined })
    await runHelper('resume', { workspace: d.workspace, id, tokens: {} })
    expect((await waitForState(d.workspace, id, ['completed', 'error'])).status).toBe('completed')
    expect(fx.srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size * 1.02)
  })

  it.each([
    ['synced (boot_id null)', null, true],
    ['unsynced, from this boot', 'this-boot', true],
    ['unsynced, from another boot', 'another-boot', false]
  ] as const)('a .part + sidecar left by another engine, %s', async (_, boot, resumes) => {
    const d = dirs()
    const size = 3 * MiB
    const f = fx.srv.addFile(`/jobs/other-${boot}.safetensors`, { size, seed: 'o' })
    const bootId =
      boot === 'this-boot' ? readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : boot
    const dir = join(d.modelsDir, 'checkpoints')
    mkdirSync(dir, { recursive: true })
    const final = join(dir, 'other.safetensors')
    const have = MiB + 12345
    const part = Buffer.alloc(size)
    contentOf(size, 'o', 0, have).copy(part)
    writeFileSync(final + '.part', part)
    const t = Date.now() / 1000
    writeFileSync(
      final + '.part.json',
      JSON.stringify({
        version: 1,
        id: '0123456789abcdef',
        url: f.url,
        final_path: final,
        size,
        etag: `"o-${size}"`,
        last_modified: DEFAULT_LAST_MODIFIED,
        sha256: null,
        segments: [{ start: 0, end: size, done: have }],
        created: t,
        updated: t,
        boot_id: bootId
      })
    )
    const a = await runHelper('start', startReq(d, f.url, { filename: 'other.safetensors' }))
    expect((await waitForState(d.workspace, a.id as string, ['completed', 'error'])).status).toBe(
      'completed'
    )
    expect(readFileSync(final).equals(contentOf(size, 'o', 0, size))).toBe(true)
    if (resumes) {
      expect(fx.srv.requestsFor(f.path).map((q) => q.headers.range)).toEqual([
        `bytes=${have}-${size - 1}`
      ])
      expect(fx.srv.bytesServed(f.path)).toBe(size - have)
    } else {
      // Claims written without fdatasync before a reboot can't be trusted: start clean.
      expect(fx.srv.requestsFor(f.path).map((q) => q.headers.range)).toEqual([undefined])
      expect(fx.srv.bytesServed(f.path)).toBe(size)
    }
  })

  it('a stalled connection is dropped after the stall timeout and resumed with Range', async () => {
    const d = dirs()
    const f = fx.srv.addFile('/jobs/stall.safetensors', {
      size: 2 * MiB + 512 * 1024,
      stallAfterBytes: MiB
    })
    const a = await runHelper(
      'start',
      startReq(d, f.url, { stall_timeout_s: 1, filename: 'stall.safetensors' })
    )
    const e = await waitForState(d.workspace, a.id as string, ['completed', 'error'])
    expect(e).toMatchObject({ status: 'completed' })
    expect(e.attempts).toBeGreaterThanOrEqual(3)
    expect(fx.srv.requestsFor(f.path).map((q) => q.headers.range)).toEqual([
      undefined,
      `bytes=${MiB}-${f.size - 1}`,
      `bytes=${2 * MiB}-${f.size - 1}`
    ])
  })

  it('429 with Retry-After: waits as told, then completes', async () => {
    const d = dirs()
    const f = fx.srv.addFile('/jobs/429.safetensors', {
      size: MiB,
      failStatus: 429,
      failTimes: 1,
      retryAfter: 1
    })
    // No file name: `start` asks the server for one first, and that request is retried too.
    const a = await runHelper('start', startReq(d, f.url))
    expect(a.ok, JSON.stringify(a)).toBe(true)
    const e = await waitForState(d.workspace, a.id as string, ['completed', 'error'])
    expect(e.status).toBe('completed')
    const [first, second] = fx.srv.requestsFor(f.path)
    expect(first!.status).toBe(429)
    expect(second!.time - first!.time).toBeGreaterThanOrEqual(950)
  })

  it('worker killed -9 at a random moment: settles to paused, resume re-fetches ≤ 2 %', async () => {
    const d = dirs()
    const f = fx.srv.addFile('/jobs/kill.safetensors', { size: 12 * MiB, throttleBps: 1 * MiB })
    const a = await runHelper('start', startReq(d, f.url, { filename: 'kill.safetensors' }))
    const id = a.id as string
    const pid = (await waitFor(() => entryOf(d.workspace, id)?.owner, 'an owner')).pid
    // No timing with the checkpoints: checkpoints every 0.5 % keep the loss small anyway.
    await waitFor(() => (entryOf(d.workspace, id)?.downloaded ?? 0) >= 2 * MiB, '2 MiB down')
    await sleep(Math.random() * 500)
    process.kill(pid, 'SIGKILL')
    await waitFor(() => isGone(pid), 'the worker dead')
    const st = await runHelper('status', { workspace: d.workspace })
    const settled = Object.values(st.status as Record<string, StatusEntry>).find((e) => e.id === id)
    expect(settled).toMatchObject({ status: 'paused', resumable: true })

    fx.srv.setFaults(f.path, { throttleBps: undefined })
    expect(await runHelper('resume', { workspace: d.workspace, id, tokens: {} })).toMatchObject({
      ok: true,
      outcome: 'started'
    })
    const done = await waitForState(d.workspace, id, ['completed', 'error'])
    expect(done.status).toBe('completed')
    expect(fx.srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size * 1.02)
    expect(fx.srv.requestsFor(f.path).at(-1)!.headers.range).toMatch(/^bytes=[1-9]\d*-/)
  })

  it('tokens never reach argv, environment, the status file, sidecar or logs', async () => {
    const d = dirs()
    const token = 'hf_SeCrEt_' + Math.random().toString(36).slice(2)
    const f = fx.srv.addFile('/jobs/token.safetensors', {
      size: 3 * MiB,
      holdAt: MiB,
      requireToken: token
    })
    const host = new URL(fx.srv.url).host
    const a = await runHelper(
      'start',
      startReq(d, f.url, { tokens: { hf: token }, token_hosts: { hf: [host] } })
    )
    const id = a.id as string
    const pid = (await waitFor(() => entryOf(d.workspace, id)?.owner, 'an owner')).pid
    await waitFor(() => (entryOf(d.workspace, id)?.downloaded ?? 0) > 0, 'bytes flowing')
    const leaks = (): string[] => {
      const found: string[] = []
      for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
        for (const what of ['cmdline', 'environ']) {
          try {
            if (readFileSync(`/proc/${p}/${what}`).includes(token)) found.push(`${p}/${what}`)
          } catch {
            // gone meanwhile, or not ours to read
          }
        }
      }
      const files = readdirSync(d.workspace, { recursive: true, withFileTypes: true })
        .filter((x) => x.isFile() && !x.name.endsWith('.part'))
        .map((x) => join(x.parentPath, x.name))
      files.push(
        ...readdirSync(join(d.modelsDir, 'checkpoints'))
          .map((x) => join(d.modelsDir, 'checkpoints', x))
          .filter((x) => x.endsWith('.json'))
      )
      for (const file of files) if (readFileSync(file).includes(token)) found.push(file)
      return found
    }
    expect(isGone(pid)).toBe(false)
    expect(existsSync((a.path as string) + '.part.json')).toBe(true)
    expect(leaks()).toEqual([])
    fx.srv.setFaults(f.path, { holdAt: undefined })
    expect((await waitForState(d.workspace, id, ['completed', 'error'])).status).toBe('completed')
    expect(existsSync(join(d.workspace, '.podpull', 'logs', `${id}.log`))).toBe(true)
    expect(leaks()).toEqual([])
    // The token did go where it belongs.
    expect(
      fx.srv.requestsFor(f.path).every((q) => q.headers.authorization === `Bearer ${token}`)
    ).toBe(true)
  })

  it('hostile names and URLs are downloaded under a plain name or refused, never run', async () => {
    const d = dirs()
    const marker = join(fx.root, `pwned-${Date.now()}`)
    const f = fx.srv.addFile('/jobs/hostile.bin', { size: 64 * 1024 })
    const names = [
      `$(touch ${marker})`,
      `\`touch ${marker}\`.safetensors`,
      `it's "quoted".safetensors`,
      `new\nline.safetensors`,
      `; touch ${marker} #.safetensors`
    ]
    for (const filename of names) {
      const a = await runHelper('start', startReq(d, f.url, { filename }))
      expect(a.ok, JSON.stringify(a)).toBe(true)
      const e = await waitForState(d.workspace, a.id as string, ['completed', 'error'])
      expect(e.status).toBe('completed')
      const path = a.path as string
      expect(path.startsWith(join(d.modelsDir, 'checkpoints') + '/')).toBe(true)
      expect(path).not.toMatch(/[\n"]/)
    }
    for (const url of [
      `${f.url}?x=$(touch ${marker})`,
      `${f.url}\n; touch ${marker}`,
      `file:///etc/passwd`,
      `javascript:alert(1)`
    ]) {
      const a = await runHelper('start', startReq(d, url))
      expect(a, url).toMatchObject({ ok: false, code: 'bad-request' })
    }
    // A URL whose path carries shell syntax: fetched literally, named by its decoded path.
    const g = fx.srv.addFile('/jobs/$(touch%20-x)%60y%60.bin', { size: 1024 })
    const a = await runHelper('start', startReq(d, g.url))
    expect(a.ok, JSON.stringify(a)).toBe(true)
    expect(a.path).toBe(join(d.modelsDir, 'checkpoints', '$(touch -x)`y`.bin'))
    expect((await waitForState(d.workspace, a.id as string, ['completed', 'error'])).status).toBe(
      'completed'
    )
    await sleep(200)
    expect(existsSync(marker)).toBe(false)
  })

  it('the same destination twice: already-active with the first id; cancel removes the .part', async () => {
    const d = dirs()
    const f = fx.srv.addFile('/jobs/twice.safetensors', { size: 4 * MiB, holdAt: MiB })
    const a = await runHelper('start', startReq(d, f.url))
    const b = await runHelper('start', startReq(d, f.url))
    expect(b).toMatchObject({ ok: true, outcome: 'already-active', id: a.id, path: a.path })
    const id = a.id as string
    await waitFor(() => (entryOf(d.workspace, id)?.downloaded ?? 0) > 0, 'bytes flowing')
    expect(await runHelper('cancel', { workspace: d.workspace, id })).toEqual({ ok: true })
    expect(entryOf(d.workspace, id)).toMatchObject({ status: 'cancelled', owner: null })
    const final = a.path as string
    expect(existsSync(final + '.part')).toBe(false)
    expect(existsSync(final + '.part.json')).toBe(false)
    expect(existsSync(final)).toBe(false)
    // remove drops the finished entry; the id is then unknown.
    expect(await runHelper('remove', { workspace: d.workspace, id })).toEqual({ ok: true })
    expect(await runHelper('remove', { workspace: d.workspace, id })).toMatchObject({
      ok: false,
      code: 'not-found'
    })
  })
})
