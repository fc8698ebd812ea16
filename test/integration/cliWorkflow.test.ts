// `podpull workflow missing` as a user runs it: a workflow (here inside a PNG
// ComfyUI saved) lists what the target lacks; --download fetches each file
// into its folder from the Hugging Face stand-in (via HF_ENDPOINT), and a
// second run lists everything as present — on a local target and on a pod.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHubServers, type HubServers } from '../harness/hubServer'
import { startModelServer, type ModelServer, type ServedFile } from '../harness/modelServer'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { assertBuilt, freshComfy, runCli } from '../support/cli'
import { killWorkers } from '../support/podTarget'
import { pngWithWorkflow } from '../support/workflowImages'

let cdn: ModelServer
let hub: HubServers
let sshd: SshdHarness
let unet: ServedFile
let vae: ServedFile
let bypassed: ServedFile
const workspaces: string[] = []

beforeAll(async () => {
  assertBuilt()
  ;[cdn, sshd] = await Promise.all([startModelServer(), startSshd()])
  hub = await startHubServers(cdn)
  unet = cdn.addFile('/cdn/wf-unet.safetensors', { size: 200_000, seed: 'wf-unet' })
  vae = cdn.addFile('/cdn/wf-vae.safetensors', { size: 60_000, seed: 'wf-vae' })
  bypassed = cdn.addFile('/cdn/wf-bypassed.safetensors', { size: 30_000, seed: 'wf-bypassed' })
  hub.addRepo({
    id: 'Comfy-Org/wf',
    files: [
      { path: 'split_files/diffusion_models/tiny-unet.safetensors', cdn: unet },
      { path: 'split_files/vae/tiny-vae.safetensors', cdn: vae },
      // Real links: were a model the workflow does not use ever fetched, it would land.
      { path: 'split_files/vae/bypassed-vae.safetensors', cdn: bypassed },
      { path: 'split_files/diffusion_models/unselected-unet.safetensors', cdn: bypassed }
    ]
  })
})
afterAll(async () => {
  workspaces.forEach(killWorkers)
  await hub?.close()
  await Promise.all([cdn?.close(), sshd?.close()])
})

const HF = 'https://huggingface.co/Comfy-Org/wf/resolve/main/split_files'
const workflow = () => ({
  nodes: [
    {
      id: 1,
      type: 'UNETLoader',
      properties: {
        models: [
          {
            name: 'tiny-unet.safetensors',
            url: `${HF}/diffusion_models/tiny-unet.safetensors?download=true`,
            directory: 'diffusion_models'
          },
          {
            name: 'unselected-unet.safetensors',
            url: `${HF}/diffusion_models/unselected-unet.safetensors`,
            directory: 'diffusion_models'
          }
        ]
      },
      widgets_values: ['tiny-unet.safetensors', 'default']
    },
    {
      id: 2,
      type: 'VAELoader',
      properties: {
        models: [
          {
            name: 'tiny-vae.safetensors',
            url: `${HF}/vae/tiny-vae.safetensors`,
            directory: 'vae',
            hash: vae.sha256,
            hash_type: 'SHA256'
          }
        ]
      },
      widgets_values: ['tiny-vae.safetensors']
    },
    { id: 3, type: 'LoraLoaderModelOnly', widgets_values: ['mystery_style.safetensors', 1] },
    {
      id: 4,
      type: 'VAELoader',
      mode: 4,
      properties: {
        models: [
          {
            name: 'bypassed-vae.safetensors',
            url: `${HF}/vae/bypassed-vae.safetensors`,
            directory: 'vae'
          }
        ]
      },
      widgets_values: ['bypassed-vae.safetensors']
    }
  ]
})

function workflowPng(): string {
  const dir = mkdtempSync(join(tmpdir(), 'podpull-wf-'))
  const file = join(dir, 'ComfyUI_00001_.png')
  writeFileSync(file, pngWithWorkflow({ workflow: JSON.stringify(workflow()) }))
  return file
}

async function missingThenDownload(env: NodeJS.ProcessEnv): Promise<void> {
  const file = workflowPng()
  const first = await runCli(['workflow', 'missing', file, '--target', 't', '--json'], env)
  expect(first.code, first.stderr).toBe(0)
  const a = JSON.parse(first.stdout)
  expect(a.present).toEqual([])
  expect(a.missing.map((i: { name: string; directory: string }) => [i.directory, i.name])).toEqual([
    ['diffusion_models', 'tiny-unet.safetensors'],
    ['vae', 'tiny-vae.safetensors']
  ])
  expect(a.unresolved).toEqual([
    expect.objectContaining({ name: 'mystery_style.safetensors', directory: 'loras' })
  ])
  expect(a.unused.map((i: { name: string; reason: string }) => [i.name, i.reason]).sort()).toEqual([
    ['bypassed-vae.safetensors', 'its node is bypassed'],
    ['unselected-unet.safetensors', 'its node lists it but does not select it']
  ])

  const dl = await runCli(
    ['workflow', 'missing', file, '--target', 't', '--download', '--json'],
    env
  )
  expect(dl.code, dl.stderr).toBe(0)
  const second = await runCli(['workflow', 'missing', file, '--target', 't', '--json'], env)
  const b = JSON.parse(second.stdout)
  expect(b.missing).toEqual([])
  expect(b.unused).toHaveLength(2)
  expect(
    b.present.map((i: { name: string; path: string }) => i.path.split('/').slice(-2).join('/'))
  ).toEqual(['diffusion_models/tiny-unet.safetensors', 'vae/tiny-vae.safetensors'])
  const models = JSON.parse((await runCli(['models', '--target', 't', '--json'], env)).stdout)
  expect(models.models.map((m: { name: string; size: number }) => [m.name, m.size])).toEqual([
    ['tiny-unet.safetensors', unet.size],
    ['tiny-vae.safetensors', vae.size]
  ])
}

describe('podpull workflow missing', () => {
  it('local target: lists, downloads with --download, then all present', async () => {
    const c = freshComfy(['checkpoints'])
    const env = { PODPULL_HOME: c.home, HF_ENDPOINT: hub.hfUrl }
    expect((await runCli(['targets', 'add-local', 't', '--comfyui', c.comfy], env)).code).toBe(0)
    await missingThenDownload(env)
    const text = await runCli(['workflow', 'missing', workflowPng(), '--target', 't'], env)
    expect(text.stdout).toContain('Not used by this workflow (2; never downloaded)')
    expect(text.stdout).toContain('vae/bypassed-vae.safetensors  (its node is bypassed)')
  })

  it('pod target: the same over SSH, the helper downloading on the pod', async () => {
    const { home } = freshComfy([])
    const ws = mkdtempSync(join(tmpdir(), 'podpull-wf-pod-'))
    workspaces.push(ws)
    mkdirSync(join(ws, 'ComfyUI', 'models'), { recursive: true })
    const env = { PODPULL_HOME: home, HF_ENDPOINT: hub.hfUrl }
    const add = await runCli(
      [
        'targets',
        'add-ssh',
        't',
        '--host',
        '127.0.0.1',
        '--port',
        String(sshd.port),
        '--user',
        sshd.user,
        '--key',
        sshd.keyPath,
        '--workspace',
        ws,
        // No --comfyui: the helper's probe finds <workspace>/ComfyUI under any workspace.
        '--accept-new-host-key'
      ],
      env
    )
    expect(add.code, add.stderr).toBe(0)
    await missingThenDownload(env)
    // Five CLI processes, each with its own SSH session: slow on a loaded machine.
  }, 180_000)

  it('a malformed workflow is one clear line, exit 2', async () => {
    const c = freshComfy(['checkpoints'])
    const env = { PODPULL_HOME: c.home }
    expect((await runCli(['targets', 'add-local', 't', '--comfyui', c.comfy], env)).code).toBe(0)
    const bad = join(c.base, 'bad.json')
    writeFileSync(bad, '{"nodes": [')
    const r = await runCli(['workflow', 'missing', bad, '--target', 't'], env)
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(
      /^Error: This is not a ComfyUI workflow: the JSON does not parse/
    )
  })
})
