// `podpull resolve` and `podpull download` without --folder, as a user runs
// them (the built CLI), against the loopback Hub and Civitai stand-ins.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHubServers, type HubServers } from '../harness/hubServer'
import { startModelServer, type ModelServer, type ServedFile } from '../harness/modelServer'
import { assertBuilt, freshComfy, runCli } from '../support/cli'

let cdn: ModelServer
let hub: HubServers
let lora: ServedFile
let vae: ServedFile
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  assertBuilt()
  cdn = await startModelServer()
  hub = await startHubServers(cdn)
  lora = cdn.addFile('/cdn/cli-lora.safetensors', { size: 40_000, seed: 'cli-lora' })
  vae = cdn.addFile('/cdn/cli-vae.safetensors', { size: 30_000, seed: 'cli-vae' })
  hub.addRepo({
    id: 'Comfy-Org/vae-repo',
    files: [{ path: 'split_files/vae/ae.safetensors', cdn: vae }]
  })
  hub.addCivitaiModel({
    id: 300,
    name: 'Film Look',
    type: 'LORA',
    versions: [
      {
        id: 400,
        name: 'v1',
        baseModel: 'SDXL 1.0',
        files: [{ cdn: lora, name: 'film_look.safetensors' }]
      }
    ]
  })
  env = { HF_ENDPOINT: hub.hfUrl, PODPULL_CIVITAI_ENDPOINT: hub.civitaiUrl }
})
afterAll(async () => {
  await hub?.close()
  await cdn?.close()
})

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex')

async function target() {
  const c = freshComfy(['checkpoints'])
  const e = { ...env, PODPULL_HOME: c.home }
  const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', c.comfy], e)
  expect(add.code, add.stderr).toBe(0)
  return { ...c, env: e }
}

describe('podpull resolve', () => {
  it('--json prints the Civitai version: file, size, sha256, folder', async () => {
    const r = await runCli(['resolve', 'https://civitai.com/models/300', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const res = JSON.parse(r.stdout)
    expect(res.files[res.selected]).toMatchObject({
      filename: 'film_look.safetensors',
      size: lora.size,
      sha256: lora.sha256,
      suggestedFolder: 'loras'
    })
  })

  it('a gated answer is one clear line and exit 1', async () => {
    hub.addRepo({ id: 'org/gated', gated: true, files: [{ path: 'm.safetensors', cdn: vae }] })
    const r = await runCli(
      ['resolve', 'https://huggingface.co/org/gated/blob/main/m.safetensors'],
      env
    )
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toMatch(
      /^Error: org\/gated is gated: accept the licence at https:\/\/huggingface.co\/org\/gated/
    )
  })
})

describe('podpull download without --folder', () => {
  it('a Civitai LoRA page lands in loras and says which folder', async () => {
    const t = await target()
    const r = await runCli(
      ['download', 'https://civitai.com/models/300', '--target', 'studio'],
      t.env
    )
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/Folder: models\/loras \(suggested/)
    const file = join(t.models, 'loras', 'film_look.safetensors')
    expect(sha(file)).toBe(lora.sha256)
  })

  it('an AIR and a Hugging Face blob link land in their folders', async () => {
    const t = await target()
    const a = await runCli(
      ['download', 'urn:air:sdxl:lora:civitai:300@400', '--target', 'studio'],
      t.env
    )
    expect(a.code, a.stderr).toBe(0)
    expect(existsSync(join(t.models, 'loras', 'film_look.safetensors'))).toBe(true)
    const h = await runCli(
      [
        'download',
        'https://huggingface.co/Comfy-Org/vae-repo/blob/main/split_files/vae/ae.safetensors',
        '--target',
        'studio'
      ],
      t.env
    )
    expect(h.code, h.stderr).toBe(0)
    expect(h.stderr).toMatch(/Folder: models\/vae/)
    expect(sha(join(t.models, 'vae', 'ae.safetensors'))).toBe(vae.sha256)
  })

  it('a Civitai link with ?token= downloads with the token where it was pasted; the stored URL has none', async () => {
    hub.addCivitaiModel({
      id: 301,
      name: 'Members',
      type: 'Checkpoint',
      versions: [
        {
          id: 401,
          name: 'v1',
          baseModel: 'SDXL 1.0',
          token: 'civ_ok',
          files: [{ cdn: vae, name: 'members.safetensors' }]
        }
      ]
    })
    const t = await target()
    const e = { ...t.env, PODPULL_CIVITAI_HOSTS: new URL(hub.civitaiUrl).host }
    const r = await runCli(
      [
        'download',
        'https://civitai.com/api/download/models/401?token=civ_ok',
        '--target',
        'studio'
      ],
      e
    )
    expect(r.code, r.stderr).toBe(0)
    expect(sha(join(t.models, 'checkpoints', 'members.safetensors'))).toBe(vae.sha256)
    const status = readFileSync(join(t.base, '.download_status.json'), 'utf8')
    expect(status).toContain('/api/download/models/401')
    expect(status).not.toContain('civ_ok')
  })

  it('a repo link with several files asks for one (exit 2)', async () => {
    hub.addRepo({
      id: 'org/two',
      files: [
        { path: 'a.safetensors', cdn: vae },
        { path: 'b.safetensors', cdn: lora }
      ]
    })
    const t = await target()
    const r = await runCli(
      ['download', 'https://huggingface.co/org/two', '--target', 'studio'],
      t.env
    )
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/org\/two has 2 model files.*a\.safetensors, b\.safetensors/)
  })
})

describe('podpull catalog', () => {
  it('lists the curated sets; an unknown set is bad usage', async () => {
    const t = await target()
    const list = await runCli(['catalog', '--json'], t.env)
    expect(list.code, list.stderr).toBe(0)
    const cat = JSON.parse(list.stdout)
    const flux = cat.sets.find((s: { id: string }) => s.id === 'flux1-dev')
    expect(flux.files.map((f: { folder: string }) => f.folder)).toEqual([
      'diffusion_models',
      'vae',
      'text_encoders',
      'text_encoders'
    ])
    const bad = await runCli(['catalog', 'download', 'nope', '--target', 'studio'], t.env)
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim()).toBe('Error: No catalog set "nope"; see "podpull catalog".')
  })
})
