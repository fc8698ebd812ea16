// Find-by-hash and duplicates from the built CLI, as a user runs them: a
// Civitai download records its hash, `models --hash` finds it by sha256 or
// AutoV2 on the target and names the Civitai model (the loopback Civitai's
// by-hash route, in Civitai's public shape), and `--duplicates` / `--keep-one`
// / `--undo` / `--confirm` link a copy into one inode, undo-able until confirmed.
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHubServers, type HubServers } from '../harness/hubServer'
import { startModelServer, type ModelServer, type ServedFile } from '../harness/modelServer'
import { assertBuilt, freshComfy, runCli } from '../support/cli'
import { ContentIndex, stampOf } from '../../src/main/models/contentIndex'

let cdn: ModelServer
let hub: HubServers
let lora: ServedFile
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  assertBuilt()
  cdn = await startModelServer()
  hub = await startHubServers(cdn)
  lora = cdn.addFile('/cdn/hash-lora.safetensors', { size: 40_000, seed: 'hash-lora' })
  hub.addCivitaiModel({
    id: 310,
    name: 'Grain Look',
    type: 'LORA',
    versions: [
      {
        id: 410,
        name: 'v2',
        baseModel: 'SDXL 1.0',
        files: [{ cdn: lora, name: 'grain.safetensors' }]
      }
    ]
  })
  env = { HF_ENDPOINT: hub.hfUrl, PODPULL_CIVITAI_ENDPOINT: hub.civitaiUrl }
})
afterAll(async () => {
  await hub?.close()
  await cdn?.close()
})

async function downloaded() {
  const c = freshComfy(['loras', 'checkpoints'])
  const e = { ...env, PODPULL_HOME: c.home }
  const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', c.comfy], e)
  expect(add.code, add.stderr).toBe(0)
  const dl = await runCli(['download', 'https://civitai.com/models/310', '--target', 'studio'], e)
  expect(dl.code, dl.stderr).toBe(0)
  return { ...c, env: e, file: join(c.models, 'loras', 'grain.safetensors') }
}

describe('podpull models --hash', () => {
  it('finds a file by sha256 or AutoV2 and names its Civitai model and version', async () => {
    const t = await downloaded()
    for (const hash of [lora.sha256, lora.sha256.slice(0, 10).toUpperCase()]) {
      const r = await runCli(['models', '--target', 'studio', '--hash', hash, '--json'], t.env)
      expect(r.code, r.stderr).toBe(0)
      const res = JSON.parse(r.stdout)
      expect(res.places).toEqual([
        expect.objectContaining({
          targetName: 'studio',
          error: null,
          files: [expect.objectContaining({ path: t.file, sha256: lora.sha256 })]
        })
      ])
      expect(res.civitai).toMatchObject({
        modelId: 310,
        modelName: 'Grain Look',
        versionId: 410,
        versionName: 'v2',
        fileName: 'grain.safetensors'
      })
    }
    expect(hub.log.some((l) => l.path === `/api/v1/model-versions/by-hash/${lora.sha256}`)).toBe(
      true
    )
    const text = await runCli(['models', '--hash', lora.sha256.slice(0, 10)], t.env)
    expect(text.stdout).toContain(`studio: loras/grain.safetensors`)
    expect(text.stdout).toContain('Civitai: Grain Look · v2 (LORA, SDXL 1.0)')
    const unknown = await runCli(['models', '--target', 'studio', '--hash', 'ab'.repeat(32)], t.env)
    expect(unknown.stdout).toContain('studio: not there')
    expect(unknown.stdout).toContain('Civitai: no model version has a file with this hash.')
    const bad = await runCli(['models', '--target', 'studio', '--hash', 'xyz'], t.env)
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/hash must be a sha256 \(64 hex digits\) or Civitai's AutoV2/)
  })
})

describe('podpull models --duplicates', () => {
  it('keep-one links a copy, undo puts it back, confirm gives the bytes back', async () => {
    const t = await downloaded()
    const copy = join(t.models, 'checkpoints', 'grain-copy.safetensors')
    copyFileSync(t.file, copy)
    // The one-shot CLI does not hash in the background: the copy is recorded as the app would.
    const index = await ContentIndex.forWorkspace(t.base).load()
    index.put(copy, stampOf(statSync(copy)), lora.sha256)
    await index.save()
    const run = (...a: string[]) => runCli(['models', '--target', 'studio', ...a], t.env)

    const list = JSON.parse((await run('--duplicates', '--json')).stdout)
    expect(list.duplicates).toEqual([
      expect.objectContaining({ sha256: lora.sha256, size: lora.size, reclaimable: lora.size })
    ])
    const kept = await run('--keep-one', lora.sha256, '--keep', t.file, '--json')
    expect(kept.code, kept.stderr).toBe(0)
    const op = JSON.parse(kept.stdout)
    expect(op).toMatchObject({ kept: t.file, linked: [copy], reclaimable: lora.size })
    expect(statSync(copy).ino).toBe(statSync(t.file).ino)
    const pending = JSON.parse((await run('--duplicates', '--json')).stdout)
    expect(pending).toMatchObject({ duplicates: [], pending: [{ op: op.op }], unhashed: 0 })

    const undo = await run('--undo', op.op)
    expect(undo.code, undo.stderr).toBe(0)
    expect(undo.stdout).toContain(`Put back: ${copy}`)
    expect(statSync(copy).ino).not.toBe(statSync(t.file).ino)
    expect(readdirSync(join(t.models, 'checkpoints'))).toEqual(['grain-copy.safetensors'])

    const again = JSON.parse((await run('--keep-one', lora.sha256, '--json')).stdout)
    const confirm = await run('--confirm', again.op)
    expect(confirm.stdout).toContain('Confirmed: 40.0 KB given back.')
    expect(statSync(t.file).nlink).toBe(2)
    expect(readdirSync(join(t.models, 'checkpoints'))).toEqual(['grain-copy.safetensors'])
    expect(existsSync(join(t.base, '.podpull', 'keep-one', `${again.op}.json`))).toBe(false)
    const gone = await run('--confirm', again.op)
    expect(gone.stderr).toMatch(/No pending keep-one change with that id/)
  })
})
