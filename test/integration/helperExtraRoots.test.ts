// The helper's side of extra_model_paths.yaml (the app picks the root, the
// helper proves containment on the pod): `start` with folder_root writes
// below that root only, refuses a missing root, a relative one and a
// symlinked sub-folder leading out; `resume` accepts a stored path in one of
// the `roots` it is given and refuses it once that root is no longer given.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { FAST, entryById, runHelper, waitForState } from '../conformance/helperDriver'

let srv: ModelServer
let root: string
beforeAll(async () => {
  srv = await startModelServer()
  root = mkdtempSync(join(tmpdir(), 'podpull-helper-roots-'))
})
afterAll(async () => {
  await srv?.close()
  rmSync(root, { recursive: true, force: true })
})

let n = 0
function layout() {
  const base = join(root, `b${++n}`)
  const ws = join(base, 'workspace')
  const models = join(ws, 'ComfyUI', 'models')
  const shared = join(base, 'shared', 'loras')
  const outside = join(base, 'outside')
  for (const d of [ws, models, shared, outside]) mkdirSync(d, { recursive: true })
  return { ws, models, shared, outside }
}

describe('helper: downloads into an extra_model_paths.yaml folder', () => {
  it('start writes below folder_root and refuses what leaves it', async () => {
    const { ws, models, shared, outside } = layout()
    const f = srv.addFile('/roots/a.safetensors', { size: 50_000, seed: 'a' })
    const base = { ...FAST, workspace: ws, models_dir: models, url: f.url, connections: 1 }
    const ok = await runHelper('start', { ...base, folder: 'loras/flux', folder_root: shared })
    expect(ok, JSON.stringify(ok)).toMatchObject({ ok: true, outcome: 'started' })
    expect(ok.path).toBe(join(shared, 'flux', 'a.safetensors'))
    await waitForState(ws, String(ok.id), ['completed'])
    expect(readdirSync(join(models))).toEqual([])

    symlinkSync(outside, join(shared, 'escape'))
    const cases: [Record<string, unknown>, string][] = [
      [{ folder: 'loras/escape', folder_root: shared }, 'unsafe-path'],
      [{ folder: 'loras', folder_root: `${shared}/../missing` }, 'bad-request'],
      [{ folder: 'loras', folder_root: join(root, 'no-such-dir') }, 'not-found'],
      [{ folder: 'loras', folder_root: 'relative/loras' }, 'bad-request'],
      [{ folder: 'loras', folder_root: '/' }, 'bad-request']
    ]
    for (const [over, code] of cases) {
      const a = await runHelper('start', { ...base, filename: 'b.safetensors', ...over })
      expect(a, JSON.stringify(over)).toMatchObject({ ok: false, code })
    }
    expect(readdirSync(outside)).toEqual([])
  })

  it('resume accepts a path in a given root, refuses it when the root is not given', async () => {
    const { ws, models, shared } = layout()
    const f = srv.addFile('/roots/held.safetensors', {
      size: 2 << 20,
      seed: 'held',
      stallAfterBytes: 256 * 1024
    })
    const req = { ...FAST, workspace: ws, models_dir: models, url: f.url, connections: 1 }
    const s = await runHelper('start', { ...req, folder: 'loras', folder_root: shared })
    expect(s, JSON.stringify(s)).toMatchObject({ ok: true })
    const id = String(s.id)
    await waitForState(ws, id, ['downloading'])
    await runHelper('pause', { workspace: ws, id })
    await waitForState(ws, id, ['paused'])
    srv.setFaults(f.path, { stallAfterBytes: undefined })
    // The yaml no longer configures the folder: the stored path is refused.
    const refused = await runHelper('resume', { ...req, id, tokens: {}, roots: [] })
    expect(refused).toMatchObject({ ok: false, code: 'unsafe-path' })
    // A root named like it is not it.
    const lookalike = [{ folder: 'loras', dir: `${shared}-old` }]
    const again = await runHelper('resume', { ...req, id, tokens: {}, roots: lookalike })
    expect(again).toMatchObject({ ok: false, code: 'unsafe-path' })
    // Configured again (the user fixed the yaml): the download resumes and completes there.
    const roots = [{ folder: 'loras', dir: `${shared}/` }]
    const r = await runHelper('resume', { ...req, id, tokens: {}, roots })
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, outcome: 'started' })
    await waitForState(ws, id, ['completed'])
    expect(entryById(ws, id)?.[0]).toBe(join(shared, 'held.safetensors'))
  })
})
