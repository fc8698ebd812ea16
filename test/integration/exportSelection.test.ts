// "Add to set" from the model library: the ticked files of a real local
// target as set entries — the link a file was downloaded from where PodPull
// knows it, else the file itself by its sha256 — and nothing that was not ticked.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createApp, type PodPullApp } from '../../src/main/app'
import { memoryTokenStore } from '../../src/main/core/tokenStore'
import { createNodeStore } from '../../src/main/settings/createStore'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { localEntry, urlEntry } from '../support/setEntries'
import { waitFor } from '../support/wait'

let server: ModelServer
let app: PodPullApp
let comfy: string

beforeAll(async () => {
  server = await startModelServer()
  const base = mkdtempSync(join(tmpdir(), 'podpull-export-sel-'))
  comfy = join(base, 'ComfyUI')
  mkdirSync(join(comfy, 'models', 'checkpoints'), { recursive: true })
  mkdirSync(join(base, 'home'))
  app = await createApp({
    store: createNodeStore(join(base, 'home')),
    host: 'headless',
    tokens: memoryTokenStore({}),
    home: join(base, 'home')
  })
})
afterAll(async () => {
  await app?.dispose()
  await server?.close()
})

it('exports the ticked files: a downloaded one by its link, a dropped-in one by its sha256', async () => {
  const h = app.handlers
  const t = await h.addTarget({ kind: 'local', name: 'studio', comfyui: comfy })
  const lora = server.addFile('/sel/detail.safetensors', { size: 50_000, seed: 'sel-detail' })
  await h.startDownload({ targetId: t.id, url: lora.url, folder: 'loras' })
  const mine = Buffer.from('my own merge')
  writeFileSync(join(comfy, 'models', 'checkpoints', 'merge.safetensors'), mine)
  writeFileSync(join(comfy, 'models', 'checkpoints', 'other.safetensors'), 'not ticked')
  const inv = await waitFor(
    () => h.listInstalled({ targetId: t.id }),
    'the download in the inventory',
    { until: (i) => i.models.length === 3 }
  )
  const path = (name: string) => inv.models.find((m) => m.name === name)!.path!

  const set = await h.exportSet({
    targetId: t.id,
    paths: [path('detail.safetensors'), path('merge.safetensors')],
    name: 'picked'
  })
  expect(set.name).toBe('picked')
  expect(set.models).toEqual([
    localEntry('checkpoints', 'merge.safetensors', mine),
    urlEntry('loras', 'detail.safetensors', lora)
  ])

  await expect(
    h.exportSet({ targetId: t.id, paths: [join(comfy, 'models', 'loras', 'gone.safetensors')] })
  ).rejects.toThrow(/gone.safetensors is not a model file of this target/)
})
