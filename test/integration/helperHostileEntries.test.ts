// What someone who can write the pod's status file can make the helper do:
// entries whose path leads out of the model folders, ids that are paths. The
// helper acts only inside the model folders, on ids of its own form.
import { execFileSync, spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readStatusFile, runHelper } from '../conformance/helperDriver'
import { childWithErrorListeners } from '../support/listeners'

let root: string
let n = 0
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'podpull-helper-hostile-'))
})
afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

/** A workspace with ComfyUI's models folder and a victim folder beside it. */
function pod() {
  const ws = join(root, `w${++n}`)
  const modelsDir = join(ws, 'ComfyUI', 'models')
  const victim = join(ws, 'victim')
  mkdirSync(join(modelsDir, 'checkpoints'), { recursive: true })
  mkdirSync(victim)
  return { ws, modelsDir, victim }
}

function plant(ws: string, entries: Record<string, Record<string, unknown>>): void {
  const now = Date.now() / 1000
  const file: Record<string, unknown> = {}
  for (const [path, over] of Object.entries(entries))
    file[path] = {
      status: 'paused',
      url: 'https://example.com/x.safetensors',
      progress: 10,
      downloaded: 10,
      file_size: 100,
      start_time: now,
      timestamp: now,
      resumable: true,
      owner: null,
      ...over
    }
  writeFileSync(join(ws, '.download_status.json'), JSON.stringify(file))
}

/** A .part and its sidecar at `path`, as a paused download leaves them. */
function partials(path: string): string[] {
  const files = [path + '.part', path + '.part.json']
  for (const f of files) writeFileSync(f, 'precious')
  return files
}

describe('helper: planted status entries', () => {
  it('cancel deletes no partial file outside the model folders (.. in the key, a symlinked folder)', async () => {
    const { ws, modelsDir, victim } = pod()
    symlinkSync(victim, join(modelsDir, 'checkpoints', 'linked'))
    const dotted = join(modelsDir, 'checkpoints', '..', '..', '..', 'victim', 'a.safetensors')
    const linked = join(modelsDir, 'checkpoints', 'linked', 'b.safetensors')
    const kept = [
      ...partials(join(victim, 'a.safetensors')),
      ...partials(join(victim, 'b.safetensors'))
    ]
    plant(ws, { [dotted]: { id: 'aaaaaaaaaaaaaaaa' }, [linked]: { id: 'bbbbbbbbbbbbbbbb' } })
    for (const id of ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']) {
      const a = await runHelper('cancel', { workspace: ws, id, models_dir: modelsDir, roots: [] })
      expect(a, JSON.stringify(a)).toMatchObject({ ok: true })
    }
    for (const f of kept) expect(existsSync(f), f).toBe(true)
    expect(readStatusFile(ws)[dotted]?.status).toBe('cancelled')
    expect(readStatusFile(ws)[linked]?.status).toBe('cancelled')
  })

  it('cancel of an entry inside models/ still deletes its partial files', async () => {
    const { ws, modelsDir } = pod()
    const path = join(modelsDir, 'checkpoints', 'ours.safetensors')
    const files = partials(path)
    plant(ws, { [path]: { id: 'cccccccccccccccc' } })
    const a = await runHelper('cancel', {
      workspace: ws,
      id: 'cccccccccccccccc',
      models_dir: modelsDir,
      roots: []
    })
    expect(a.ok, JSON.stringify(a)).toBe(true)
    for (const f of files) expect(existsSync(f), f).toBe(false)
  })

  it('status lists only the entries inside the model folders (an extra root counts); raw without them', async () => {
    const { ws, modelsDir, victim } = pod()
    symlinkSync(victim, join(modelsDir, 'checkpoints', 'linked'))
    const extra = join(ws, 'extra-loras')
    mkdirSync(extra)
    const inside = join(modelsDir, 'checkpoints', 'ours.safetensors')
    const notYet = join(modelsDir, 'loras', 'sub', 'new.safetensors') // folder not made yet
    const inExtra = join(extra, 'style.safetensors')
    const planted = [
      '/etc/x.safetensors',
      join(modelsDir, 'checkpoints', '..', '..', '..', 'victim', 'a.safetensors'),
      join(modelsDir, 'checkpoints', 'linked', 'b.safetensors'),
      join(modelsDir, 'checkpoints', 'linked', 'deeper', 'c.safetensors'),
      join(ws, 'beside-models.safetensors'),
      'relative/x.safetensors'
    ]
    const ids = (n: number) => n.toString(16).padStart(16, '0')
    plant(
      ws,
      Object.fromEntries([inside, notYet, inExtra, ...planted].map((p, i) => [p, { id: ids(i) }]))
    )
    const roots = [{ folder: 'loras', dir: extra + '/' }]
    const a = await runHelper('status', { workspace: ws, models_dir: modelsDir, roots })
    expect(a.ok, JSON.stringify(a)).toBe(true)
    expect(Object.keys(a.status as object).sort()).toEqual([inExtra, inside, notYet].sort())
    // Without the model folders named (podpull status --json, diagnostics): the file as it is.
    const raw = await runHelper('status', { workspace: ws })
    expect(Object.keys(raw.status as object)).toHaveLength(3 + planted.length)
    const bad = await runHelper('status', { workspace: ws, models_dir: modelsDir, roots: 'x' })
    expect(bad).toMatchObject({ ok: false, code: 'bad-request' })
  })

  it('an id that is a path names no control file: refused before anything is written', async () => {
    const { ws, modelsDir } = pod()
    // A live process of this host as the planted owner: the helper would ask it
    // to stop through a control file named by the id.
    const sleeper = childWithErrorListeners(spawn('sleep', ['30'], { stdio: 'ignore' }))
    try {
      const evil = '../../../planted-control'
      plant(ws, {
        [join(modelsDir, 'checkpoints', 'x.safetensors')]: {
          id: evil,
          status: 'downloading',
          owner: { host: hostname(), pid: sleeper.pid, engine: 'helper' },
          progress_time: Date.now() / 1000
        }
      })
      for (const word of ['cancel', 'pause', 'resume', 'remove']) {
        const a = await runHelper(word, { workspace: ws, id: evil, models_dir: modelsDir })
        expect(a, word).toMatchObject({ ok: false, code: 'bad-request' })
      }
      expect(existsSync(join(ws, 'planted-control'))).toBe(false)
      expect(existsSync(join(ws, '..', 'planted-control'))).toBe(false)
      expect(sleeper.exitCode).toBe(null)
    } finally {
      sleeper.kill()
    }
  })
})

describe('helper: a status file too large to be real, or no file at all', () => {
  const statusFile = (ws: string) => join(ws, '.download_status.json')
  const setAside = (ws: string) =>
    readdirSync(ws).filter((f) => f.startsWith('.download_status.json.corrupt-'))

  it('a FIFO where the status file should be is refused at once (a read would hang)', async () => {
    const { ws, modelsDir } = pod()
    execFileSync('mkfifo', [statusFile(ws)])
    const a = await runHelper('status', { workspace: ws })
    expect(a).toMatchObject({ ok: false, code: 'unsupported' })
    expect(a.error).toMatch(/is not a regular file/)
    // A FIFO where a paused download's sidecar should be is no sidecar either.
    rmSync(statusFile(ws))
    const path = join(modelsDir, 'checkpoints', 'x.safetensors')
    writeFileSync(path + '.part', 'x')
    execFileSync('mkfifo', [path + '.part.json'])
    // Its owner gone: the helper looks at the sidecar for what is on disk.
    const gone = childWithErrorListeners(spawn('true', { stdio: 'ignore' }))
    await new Promise((r) => gone.on('close', r))
    const owner = { host: hostname(), pid: gone.pid, engine: 'helper' }
    plant(ws, { [path]: { id: 'dddddddddddddddd', status: 'downloading', owner } })
    const b = await runHelper('status', { workspace: ws })
    expect(b.ok, JSON.stringify(b)).toBe(true)
    expect(readStatusFile(ws)[path]?.status).toBe('paused')
  })

  it.each([
    ['more than 100,000 entries', () => JSON.stringify(manyEntries(100_001))],
    ['more than 64 MiB', () => JSON.stringify({ '/m/x': { pad: 'x'.repeat(65 << 20) } })]
  ])('%s: set aside on the next write, never kept', async (_, text) => {
    const { ws } = pod()
    writeFileSync(statusFile(ws), text())
    const a = await runHelper('clear-completed', { workspace: ws })
    expect(a).toEqual({ ok: true, removed: 0 })
    expect(setAside(ws)).toHaveLength(1)
    expect(readStatusFile(ws)).toEqual({})
  })
})

function manyEntries(n: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (let i = 0; i < n; i++) out[`/m/${i}`] = { status: 'completed' }
  return out
}
