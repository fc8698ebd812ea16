// LocalTarget end to end against the real loopback model server: the queue,
// every user action, the already-present / already-active / exists rules,
// close(), the models inventory and the events the dashboard lives on.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_SETTINGS,
  type DownloadRecord,
  type DownloadsChangedEvent,
  type Settings,
  type TargetInfo
} from '../../src/shared/types'
import { LocalTarget, type LocalTargetDeps } from '../../src/main/targets/local/localTarget'
import { memoryOwnJobs, type OwnJobs } from '../../src/main/targets/ownJobs'
import { heldRead } from '../support/heldRead'
import { useLocalHarness } from '../support/localHarness'
import { waitFor } from '../support/wait'

const MiB = 1 << 20
const h = useLocalHarness('podpull-local-')

interface Setup {
  target: LocalTarget
  workspace: string
  models: string
  events: DownloadsChangedEvent[]
  infos: TargetInfo[]
  settings: Settings
  /** What "this PodPull" started: shared with a reopened target, as the settings file is. */
  ownJobs: OwnJobs
}

async function setup(
  over: Partial<Settings> = {},
  deps: Partial<LocalTargetDeps> = {}
): Promise<Setup> {
  const workspace = h.fresh('ws')
  const comfyui = join(workspace, 'ComfyUI')
  const models = join(comfyui, 'models')
  await mkdir(join(models, 'loras'), { recursive: true })
  const settings = { ...DEFAULT_SETTINGS, connections: 1, ...over }
  const ownJobs = memoryOwnJobs()
  const target = new LocalTarget(
    { id: 't1', name: 'studio', config: { kind: 'local', comfyui, workspace } },
    {
      settings: () => settings,
      ownJobs,
      auth: () => undefined,
      authHint: () => undefined,
      engine: { retryBaseMs: 50, maxAttempts: 2 },
      statusPollMs: 300,
      ...deps
    }
  )
  const events: DownloadsChangedEvent[] = []
  const infos: TargetInfo[] = []
  target.on('downloads', (e) => events.push(e))
  target.on('info', (i) => infos.push(i))
  h.targets.push(target)
  await target.open()
  return { target, workspace, models, events, infos, settings, ownJobs }
}

const record = (t: LocalTarget, id: string): DownloadRecord | undefined =>
  t.downloads().find((r) => r.id === id)
const stateOf = (t: LocalTarget, id: string) => record(t, id)?.state
const waitState = (t: LocalTarget, id: string, state: string, ms?: number) =>
  waitFor(() => record(t, id), `${id} ${state}`, { until: (r) => r?.state === state, ms })
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex')
const statusFile = async (ws: string) =>
  JSON.parse(await readFile(join(ws, '.download_status.json'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >

describe('LocalTarget', () => {
  it('runs three downloads two at a time, the third queued until a slot frees', async () => {
    const s = await setup({ concurrency: 2 })
    const files = [0, 1, 2].map((i) =>
      h.srv.addFile(`/q/m${i}.safetensors`, { size: MiB, seed: `q${i}`, holdAt: MiB / 2 })
    )
    const started = await Promise.all(
      files.map((f) => s.target.start({ url: f.url, folder: 'loras' }))
    )
    expect(started.map((r) => r.outcome)).toEqual(['started', 'started', 'started'])
    // All three held at half: two run, the third waits for a slot however slow the machine.
    await waitFor(() => started.map((r) => stateOf(s.target, r.id)), 'two running', {
      until: (st) => st.filter((x) => x === 'downloading').length === 2
    })
    await waitFor(
      () => files.filter((f) => h.srv.bytesServed(f.path) >= MiB / 2).length,
      'two held',
      {
        until: (n) => n === 2
      }
    )
    const third = started.findIndex((r) => stateOf(s.target, r.id) === 'queued')
    expect(third).toBeGreaterThanOrEqual(0)
    // Nothing but its 1-byte name probe has been fetched for the queued one.
    expect(h.srv.requestsFor(files[third]!.path).every((r) => r.bytesSent <= 1)).toBe(true)
    const firstDone = (third + 1) % 3
    h.srv.setFaults(files[firstDone]!.path, { holdAt: undefined })
    await waitState(s.target, started[firstDone]!.id, 'completed')
    for (const f of files) h.srv.setFaults(f.path, { holdAt: undefined })
    for (const r of started) await waitState(s.target, r.id, 'completed')
    files.forEach((f, i) => expect(sha(started[i]!.path)).toBe(f.sha256))
    // Events: every state the queued job went through, revisions only going up.
    const seen = s.events.flatMap((e) => e.upserts).filter((r) => r.id === started[third]!.id)
    expect(new Set(seen.map((r) => r.state))).toEqual(
      new Set(['queued', 'starting', 'downloading', 'verifying', 'completed'])
    )
    const revs = seen.map((r) => r.rev)
    expect(revs).toEqual([...revs].sort((a, b) => a - b))
    expect(s.infos.some((i) => typeof i.freeBytes === 'number' && i.freeBytes > 0)).toBe(true)
    const disk = await statusFile(s.workspace)
    expect(disk[started[0]!.path]).toMatchObject({
      status: 'completed',
      progress: 100,
      owner: null
    })
  })

  it.each([251, 253, 255])(
    'a server name of %i bytes is shortened so the .part.json beside it fits',
    async (bytes) => {
      const s = await setup()
      const name = `${'n'.repeat(bytes - '.safetensors'.length)}.safetensors`
      const f = h.srv.addFile(`/long/${bytes}.bin`, {
        size: 64 * 1024,
        seed: `long${bytes}`,
        contentDisposition: `attachment; filename="${name}"`
      })
      const { id, path } = await s.target.start({ url: f.url, folder: 'loras' })
      await waitState(s.target, id, 'completed')
      const saved = path.split('/').pop()!
      expect(Buffer.byteLength(`${saved}.part.json.tmp-4194304-ffffffff`)).toBeLessThanOrEqual(255)
      expect(saved.endsWith('.safetensors')).toBe(true)
      expect(sha(path)).toBe(f.sha256)
    }
  )

  it('pause keeps the .part; resume finishes it with a Range request', async () => {
    const s = await setup()
    const f = h.srv.addFile('/p/pause.safetensors', { size: 4 * MiB, seed: 'p', holdAt: 2 * MiB })
    const { id, path } = await s.target.start({ url: f.url, folder: 'loras' })
    await waitFor(() => (record(s.target, id)?.downloaded ?? 0) > MiB, 'bytes')
    await s.target.pause(id)
    expect(stateOf(s.target, id)).toBe('paused')
    expect(existsSync(`${path}.part`)).toBe(true)
    expect((await statusFile(s.workspace))[path]).toMatchObject({
      status: 'paused',
      resumable: true
    })
    h.srv.setFaults(f.path, { holdAt: undefined })
    await s.target.resume(id)
    await waitState(s.target, id, 'completed')
    expect(sha(path)).toBe(f.sha256)
    const ranges = h.srv.requestsFor(f.path).map((r) => String(r.headers.range ?? ''))
    expect(ranges.some((r) => /^bytes=[1-9]\d*-/.test(r))).toBe(true)
    // Only what was in flight when paused is fetched twice (a restart would add > 1 MiB).
    expect(h.srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size + MiB / 2)
  })

  it('cancel removes the .part and sidecar; retry downloads it again; remove drops it', async () => {
    const s = await setup()
    const f = h.srv.addFile('/c/cancel.safetensors', { size: 4 * MiB, seed: 'c', holdAt: MiB })
    const { id, path } = await s.target.start({ url: f.url, folder: 'loras' })
    await waitFor(() => (record(s.target, id)?.downloaded ?? 0) > 0, 'bytes')
    await expect(s.target.remove(id)).rejects.toThrow(/pause or cancel it first/)
    await s.target.cancel(id)
    expect(stateOf(s.target, id)).toBe('cancelled')
    expect(existsSync(`${path}.part`)).toBe(false)
    expect(existsSync(`${path}.part.json`)).toBe(false)
    h.srv.setFaults(f.path, { holdAt: undefined })
    await s.target.retry(id)
    await waitState(s.target, id, 'completed')
    expect(record(s.target, id)!.attempts).toBe(2)
    expect(sha(path)).toBe(f.sha256)
    await s.target.remove(id)
    expect(record(s.target, id)).toBeUndefined()
    expect((await statusFile(s.workspace))[path]).toBeUndefined()
    expect(s.events.some((e) => e.removed.some((r) => r.id === id))).toBe(true)
    expect(existsSync(path)).toBe(true) // removing the entry never deletes the model
  })

  it('a failure shows one clear sentence; retry after the fix completes', async () => {
    const s = await setup()
    const f = h.srv.addFile('/e/forbidden.safetensors', { size: MiB, seed: 'e', forbidden: true })
    const { id, path } = await s.target.start({
      url: f.url,
      folder: 'loras',
      filename: 'forbidden.safetensors'
    })
    const r = await waitState(s.target, id, 'error')
    expect(r!.error).toMatch(/403|forbidden|denied/i)
    expect(existsSync(path)).toBe(false)
    h.srv.setFaults(f.path, { forbidden: undefined })
    await s.target.retry(id)
    await waitState(s.target, id, 'completed')
    expect(sha(path)).toBe(f.sha256)
  })

  it('already-active while running, already-present afterwards without fetching', async () => {
    const s = await setup()
    const f = h.srv.addFile('/a/active.safetensors', { size: 2 * MiB, seed: 'a', holdAt: MiB })
    const first = await s.target.start({ url: f.url, folder: 'loras' })
    const again = await s.target.start({ url: f.url, folder: 'loras' })
    expect(again).toEqual({ id: first.id, outcome: 'already-active', path: first.path })
    h.srv.setFaults(f.path, { holdAt: undefined })
    await waitState(s.target, first.id, 'completed')
    const served = h.srv.bytesServed(f.path)
    const present = await s.target.start({ url: f.url, folder: 'loras' })
    expect(present.outcome).toBe('already-present')
    expect(present.path).toBe(first.path)
    expect(h.srv.bytesServed(f.path)).toBe(served)
    const withHash = await s.target.start({
      url: f.url,
      folder: 'loras',
      filename: 'active.safetensors',
      sha256: f.sha256
    })
    expect(withHash.outcome).toBe('already-present')
  })

  it('a different file in place is an error unless overwrite is asked for', async () => {
    const s = await setup()
    const f = h.srv.addFile('/x/exists.safetensors', { size: MiB, seed: 'x' })
    const path = join(s.models, 'loras', 'exists.safetensors')
    await writeFile(path, 'my own precious file')
    await expect(s.target.start({ url: f.url, folder: 'loras' })).rejects.toMatchObject({
      code: 'exists',
      message: expect.stringMatching(/different file already exists.*overwrite/)
    })
    expect(readFileSync(path, 'utf8')).toBe('my own precious file')
    expect(s.target.downloads()).toEqual([])
    const r = await s.target.start({ url: f.url, folder: 'loras', overwrite: true })
    await waitState(s.target, r.id, 'completed')
    expect(sha(path)).toBe(f.sha256)
  })

  it('pausing a queued job, clearCompleted, listModels and close()', async () => {
    const s = await setup({ concurrency: 1 })
    const a = h.srv.addFile('/l/a.safetensors', { size: 4 * MiB, seed: 'la', holdAt: MiB })
    const b = h.srv.addFile('/l/b.safetensors', { size: MiB, seed: 'lb' })
    const ra = await s.target.start({ url: a.url, folder: 'loras' })
    const rb = await s.target.start({ url: b.url, folder: 'checkpoints' })
    expect(stateOf(s.target, rb.id)).toBe('queued')
    await s.target.pause(rb.id)
    expect(stateOf(s.target, rb.id)).toBe('paused')
    await waitFor(() => (record(s.target, ra.id)?.downloaded ?? 0) > 0, 'a bytes')
    // close() while a runs: it is left paused and resumable, nobody owns it, and
    // marked interrupted (the app went away, not the user).
    await s.target.close()
    const disk = await statusFile(s.workspace)
    expect(disk[ra.path]).toMatchObject({
      status: 'paused',
      resumable: true,
      owner: null,
      interrupted: true
    })
    expect(disk[rb.path]).toMatchObject({ status: 'paused', interrupted: false })
    expect(existsSync(`${ra.path}.part`)).toBe(true)
    // A fresh target on the same workspace resumes the interrupted job by itself
    // (with a Range request); the one the user paused waits for the user.
    h.srv.setFaults(a.path, { holdAt: undefined })
    const s2 = await reopen(s)
    await waitState(s2, ra.id, 'completed')
    expect(
      h.srv.requestsFor(a.path).some((q) => /^bytes=[1-9]/.test(String(q.headers.range ?? '')))
    ).toBe(true)
    expect(stateOf(s2, rb.id)).toBe('paused')
    await s2.resume(rb.id)
    await waitState(s2, rb.id, 'completed')
    const models = await s2.listModels()
    expect(models.map((m) => [m.folder, m.name, m.size])).toEqual([
      ['checkpoints', 'b.safetensors', MiB],
      ['loras', 'a.safetensors', 4 * MiB]
    ])
    expect(await s2.clearCompleted()).toBe(2)
    expect(s2.downloads()).toEqual([])
    expect(Object.keys(await statusFile(s.workspace))).toEqual([])
  })

  it('an interrupted entry it did not start is never resumed by itself (no token for it)', async () => {
    const s = await setup()
    await s.target.close()
    const bait = h.srv.addFile('/planted/local-bait.safetensors', { size: MiB, seed: 'bait' })
    const key = join(s.models, 'loras', 'planted.safetensors')
    await writeFile(
      join(s.workspace, '.download_status.json'),
      JSON.stringify({
        [key]: {
          status: 'paused',
          interrupted: true,
          resumable: true,
          id: 'c0c0c0c0c0c0c0c0',
          url: bait.url,
          folder: 'loras',
          filename: 'planted.safetensors',
          timestamp: Date.now() / 1000
        }
      })
    )
    const t = await reopen(s)
    // A download of ours runs to the end: the planted one had every chance meanwhile.
    const f = h.srv.addFile('/planted/local-ours.safetensors', { size: MiB, seed: 'ours' })
    const { id } = await t.start({ url: f.url, folder: 'loras' })
    await waitState(t, id, 'completed')
    expect(h.srv.requestsFor(bait.path)).toEqual([])
    expect(stateOf(t, 'c0c0c0c0c0c0c0c0')).toBe('paused')
  })

  it('entries that lead outside the models folder are not listed, and nothing is deleted there', async () => {
    const s = await setup()
    await s.target.close()
    const victim = join(s.workspace, 'victim')
    await mkdir(victim, { recursive: true })
    for (const n of ['x', 'y', 'z'])
      for (const ext of ['.part', '.part.json']) await writeFile(join(victim, n + ext), 'keep')
    await symlink(victim, join(s.models, 'loras', 'link'))
    await mkdir(join(s.models, 'loras', 'sub'))
    const entry = (id: string) => ({
      status: 'paused',
      resumable: true,
      id,
      url: 'https://host.test/f',
      folder: 'loras',
      filename: 'f',
      timestamp: Date.now() / 1000
    })
    await writeFile(
      join(s.workspace, '.download_status.json'),
      JSON.stringify({
        [`${s.models}/loras/../../../victim/x`]: entry('d0d0d0d0d0d0d0d1'),
        [join(s.models, 'loras', 'link', 'y')]: entry('d0d0d0d0d0d0d0d2'),
        [join(s.models, 'loras', 'sub', 'z')]: entry('d0d0d0d0d0d0d0d3')
      })
    )
    const t = await reopen(s)
    expect(t.downloads().map((r) => r.id)).toEqual(['d0d0d0d0d0d0d0d3'])
    for (const id of ['d0d0d0d0d0d0d0d1', 'd0d0d0d0d0d0d0d2']) {
      await expect(t.cancel(id)).rejects.toThrow(/no longer listed/)
      await expect(t.remove(id)).rejects.toThrow(/no longer listed/)
    }
    // Listed a moment ago, then its folder swapped for a symlink: checked again before deleting.
    await rm(join(s.models, 'loras', 'sub'), { recursive: true })
    await symlink(victim, join(s.models, 'loras', 'sub'))
    await t.cancel('d0d0d0d0d0d0d0d3').catch(() => undefined)
    await t.remove('d0d0d0d0d0d0d0d3').catch(() => undefined)
    for (const n of ['x', 'y', 'z'])
      for (const ext of ['.part', '.part.json'])
        expect(existsSync(join(victim, n + ext)), n + ext).toBe(true)
  })

  it('a token pasted in the URL is requested where it was pasted and never reaches the status file', async () => {
    const s = await setup()
    const f = h.srv.addFile('/t/gated.safetensors', {
      size: MiB,
      seed: 't',
      requireQuery: { token: 's3cr3t' }
    })
    const { id, path } = await s.target.start({ url: `${f.url}?token=s3cr3t`, folder: 'loras' })
    await waitState(s.target, id, 'completed')
    expect(sha(path)).toBe(f.sha256)
    const gets = h.srv.requestsFor(f.path).filter((r) => r.method === 'GET')
    expect(gets.every((r) => r.headers.authorization === undefined)).toBe(true)
    const onDisk = await readFile(join(s.workspace, '.download_status.json'), 'utf8')
    expect(onDisk).not.toContain('s3cr3t')
    expect(record(s.target, id)!.url).toBe(f.url)
    expect(JSON.stringify(s.events)).not.toContain('s3cr3t')
  })

  it('test() reports the ComfyUI folder and free space, or what is wrong', async () => {
    const s = await setup()
    const ok = await s.target.test()
    expect(ok).toMatchObject({ ok: true, comfyui: join(s.workspace, 'ComfyUI') })
    expect(ok.freeBytes).toBeGreaterThan(0)
    const empty = h.fresh('not-comfy')
    await mkdir(empty, { recursive: true })
    const bad = new LocalTarget(
      { id: 't2', name: 'bad', config: { kind: 'local', comfyui: empty, workspace: h.root } },
      { settings: () => s.settings, auth: () => undefined, authHint: () => undefined }
    )
    expect(await bad.test()).toMatchObject({
      ok: false,
      message: expect.stringMatching(/has no models\/ folder/)
    })
    await expect(s.target.start({ url: 'ftp://x.test/a.bin', folder: 'loras' })).rejects.toThrow(
      /http\(s\) URL/
    )
  })

  it("a resume whose read of the status file predates the run's last write resumes, never 'busy'", async () => {
    const gate = heldRead()
    const s = await setup({}, { statusRead: gate.reader })
    const f = h.srv.addFile('/o/overtaken.safetensors', { size: 3 * MiB, seed: 'o', holdAt: MiB })
    const { id, path } = await s.target.start({ url: f.url, folder: 'loras' })
    await waitState(s.target, id, 'downloading')
    // The resume reads the file while the run is active; the read is held until
    // the run has been paused and its last state written, then lands.
    gate.armOnce()
    const resumed = s.target.resume(id)
    const seen = await gate.seen()
    expect(seen.ok && (seen.raw[path] as { status: string }).status).toMatch(
      /^(queued|starting|downloading)$/
    )
    await s.target.pause(id)
    expect(stateOf(s.target, id)).toBe('paused')
    h.srv.setFaults(f.path, { holdAt: undefined })
    gate.release()
    await resumed
    await waitState(s.target, id, 'completed')
    expect(sha(path)).toBe(f.sha256)
  })

  it('an entry this very process left active without a run is resumed, not refused as busy', async () => {
    const s = await setup()
    const f = h.srv.addFile('/o/leftover.safetensors', { size: MiB, seed: 'l' })
    const key = join(s.models, 'loras', 'leftover.safetensors')
    const now = Date.now() / 1000
    await writeFile(
      join(s.workspace, '.download_status.json'),
      JSON.stringify({
        [key]: {
          status: 'downloading',
          id: 'd0d0d0d0d0d0d0d0',
          url: f.url,
          folder: 'loras',
          filename: 'leftover.safetensors',
          start_time: now,
          timestamp: now,
          progress_time: now,
          owner: { host: hostname(), pid: process.pid, engine: 'ts' }
        }
      })
    )
    await s.target.resume('d0d0d0d0d0d0d0d0')
    await waitState(s.target, 'd0d0d0d0d0d0d0d0', 'completed')
    expect(sha(key)).toBe(f.sha256)
  })

  it("shows another target's downloads on the same workspace through the watch", async () => {
    const s = await setup()
    const other = await reopen(s)
    const f = h.srv.addFile('/w/watch.safetensors', { size: MiB, seed: 'w', throttleBps: 2 * MiB })
    const { id } = await s.target.start({ url: f.url, folder: 'loras' })
    await waitState(other, id, 'completed', 10_000)
    await expect(other.cancel(id)).rejects.toThrow(/finished/)
  })
})

async function reopen(s: Setup): Promise<LocalTarget> {
  const t = new LocalTarget(
    {
      id: 't1',
      name: 'studio',
      config: { kind: 'local', comfyui: join(s.workspace, 'ComfyUI'), workspace: s.workspace }
    },
    {
      settings: () => s.settings,
      ownJobs: s.ownJobs,
      auth: () => undefined,
      authHint: () => undefined,
      statusPollMs: 300
    }
  )
  h.targets.push(t)
  await t.open()
  return t
}
