// The pod helper lists models as ComfyUI lists them, held to the same vector
// as the local walker (test/fixtures/modelListing.json): per-kind extensions,
// every depth, hidden files, .git skipped, symlink loops entered once, a folder
// two kinds share listed once. Its `extra-paths` reports the pod's home and the
// variables the yaml names (never one that looks like a secret), and `probe`
// finds ComfyUI under any workspace.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseExtraModelPaths } from '../../src/main/models/extraModelPaths'
import { runHelper } from '../conformance/helperDriver'
import { layOut, listingVector, sorted } from '../support/modelListing'

type Row = { folder: string; name: string; extra?: boolean }

describe('helper listing', () => {
  it('inventory: the shared vector, as the local walker lists it', async () => {
    const v = listingVector()
    const comfyui = layOut(v, mkdtempSync(join(tmpdir(), 'podpull-hlisting-')))
    const roots = parseExtraModelPaths(v.yaml, comfyui, posix)
    const a = await runHelper('inventory', { models_dir: join(comfyui, 'models'), roots })
    expect(a.ok, a.error).toBe(true)
    const rows = (a.models as Row[]).map((m) => [m.folder, m.name, Boolean(m.extra)])
    expect(sorted(rows)).toEqual(sorted(v.expect))
    const parts = (a.partials as Row[]).map((p) => [p.folder, p.name])
    expect(sorted(parts)).toEqual(sorted(v.partials))
    // `models` (the plain list) lists models/ the same way.
    const b = await runHelper('models', { workspace: comfyui, models_dir: join(comfyui, 'models') })
    expect(sorted((b.models as Row[]).map((m) => [m.folder, m.name, false]))).toEqual(
      sorted(v.expect.filter((r) => !r[2]))
    )
  })

  it("extra-paths: the pod's home and the variables the file names, secrets left out", async () => {
    const comfyui = mkdtempSync(join(tmpdir(), 'podpull-hextra-'))
    writeFileSync(
      join(comfyui, 'extra_model_paths.yaml'),
      [
        'a:',
        '    base_path: $PODPULL_T_DISK/${PODPULL_T_SUB}/x',
        '    loras: $PODPULL_T_TOKEN',
        ''
      ].join('\n')
    )
    const env = { PODPULL_T_DISK: '/mnt/d', PODPULL_T_SUB: 'sub', PODPULL_T_TOKEN: 'hf_secret' }
    const a = await runHelper('extra-paths', { comfyui }, env)
    expect(a.ok, a.error).toBe(true)
    expect(a.env).toEqual({ PODPULL_T_DISK: '/mnt/d', PODPULL_T_SUB: 'sub' })
    expect(typeof a.home).toBe('string')
    expect(JSON.stringify(a)).not.toContain('hf_secret')
  })

  it('probe: <workspace>/ComfyUI and <workspace>/runpod-slim/ComfyUI are found under any workspace', async () => {
    const data = mkdtempSync(join(tmpdir(), 'podpull-data-'))
    mkdirSync(join(data, 'ComfyUI', 'models'), { recursive: true })
    const a = await runHelper('probe', { workspace: data })
    expect(a.comfyui).toBe(join(data, 'ComfyUI'))
    expect(a.candidates).toEqual(
      expect.arrayContaining([join(data, 'ComfyUI'), join(data, 'runpod-slim', 'ComfyUI')])
    )
    const slim = mkdtempSync(join(tmpdir(), 'podpull-slim-'))
    mkdirSync(join(slim, 'runpod-slim', 'ComfyUI', 'models'), { recursive: true })
    expect((await runHelper('probe', { workspace: slim })).comfyui).toBe(
      join(slim, 'runpod-slim', 'ComfyUI')
    )
  })
})
