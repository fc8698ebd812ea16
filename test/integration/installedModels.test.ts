// What a target has installed, on a local ComfyUI and on a pod (real helper,
// real sshd): models by folder with the folders extra_model_paths.yaml adds,
// leftover .part files, sha256 computed where the file lives, and delete —
// only of a file the inventory lists.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LocalModels } from '../../src/main/models/localModels'
import type { TargetModels } from '../../src/main/models/targetModels'
import { podTarget, usePodHarness } from '../support/podTarget'

const pod = usePodHarness()

/** A ComfyUI folder with models, a .part + sidecar, and an extra_model_paths.yaml
 *  pointing at an A1111-style install beside it (relative base_path). */
function comfyWithExtras(comfyui: string): { a1111Lora: string; ckpt: string; part: string } {
  const models = join(comfyui, 'models')
  mkdirSync(join(models, 'checkpoints'), { recursive: true })
  mkdirSync(join(models, 'loras'), { recursive: true })
  const ckpt = join(models, 'checkpoints', 'sd15.safetensors')
  writeFileSync(ckpt, 'checkpoint-bytes')
  const part = join(models, 'loras', 'big.safetensors.part')
  writeFileSync(part, 'half')
  writeFileSync(`${part}.json`, '{}')
  const a1111 = join(comfyui, '..', 'webui')
  mkdirSync(join(a1111, 'models', 'Lora'), { recursive: true })
  const a1111Lora = join(a1111, 'models', 'Lora', 'style.safetensors')
  writeFileSync(a1111Lora, 'lora-bytes')
  writeFileSync(
    join(comfyui, 'extra_model_paths.yaml'),
    [
      'a111:',
      '    base_path: ../webui/',
      '    checkpoints: models/Stable-diffusion',
      '    loras: |',
      '         models/Lora',
      '         models/LyCORIS',
      '    upscale_models: models/ESRGAN',
      ''
    ].join('\n')
  )
  return { a1111Lora, ckpt, part }
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex')

async function checkInventory(m: TargetModels, files: ReturnType<typeof comfyWithExtras>) {
  const inv = await m.installed()
  expect(inv.warning).toBeNull()
  expect(inv.models.map((x) => [x.folder, x.name, x.size, Boolean(x.extra)])).toEqual([
    ['checkpoints', 'sd15.safetensors', 16, false],
    ['loras', 'style.safetensors', 10, true]
  ])
  expect(inv.models[1]!.path).toBe(files.a1111Lora)
  expect(inv.extraRoots).toContainEqual({ folder: 'loras', dir: join(files.a1111Lora, '..') })
  expect(inv.partials).toEqual([
    expect.objectContaining({ folder: 'loras', name: 'big.safetensors', size: 4, path: files.part })
  ])
  expect(await m.sha256(files.a1111Lora)).toBe(sha('lora-bytes'))
  // Nothing outside the inventory can be hashed or deleted.
  await expect(
    m.sha256(join(files.ckpt, '..', '..', '..', 'extra_model_paths.yaml'))
  ).rejects.toMatchObject({ code: 'not-found' })
  await expect(m.remove('/etc/hostname')).rejects.toMatchObject({ code: 'not-found' })
  await m.remove(files.part)
  expect(existsSync(files.part) || existsSync(`${files.part}.json`)).toBe(false)
  await m.remove(files.ckpt)
  expect(existsSync(files.ckpt)).toBe(false)
  expect((await m.installed()).models.map((x) => x.name)).toEqual(['style.safetensors'])
}

describe('installed models', () => {
  it('local: extra_model_paths.yaml folders, .part files, sha256 and delete', async () => {
    const comfyui = join(mkdtempSync(join(tmpdir(), 'podpull-inv-')), 'ComfyUI')
    const files = comfyWithExtras(comfyui)
    await checkInventory(new LocalModels(comfyui), files)
  })

  it('pod: the same through the helper over SSH, hashed on the pod', async () => {
    const w = pod.workspace()
    const files = comfyWithExtras(w.comfyui)
    const t = podTarget(pod.sshd, w.store, { ws: w.ws, comfyui: w.comfyui })
    pod.targets.push(t)
    await t.open()
    await checkInventory(t.models(), files)
  })

  it('a broken extra_model_paths.yaml is a warning; models/ is still listed', async () => {
    const comfyui = join(mkdtempSync(join(tmpdir(), 'podpull-inv-')), 'ComfyUI')
    mkdirSync(join(comfyui, 'models', 'vae'), { recursive: true })
    writeFileSync(join(comfyui, 'models', 'vae', 'ae.safetensors'), 'x')
    writeFileSync(join(comfyui, 'extra_model_paths.yaml'), 'a111:\n  base_path: [unclosed\n')
    const inv = await new LocalModels(comfyui).installed()
    expect(inv.warning).toMatch(/extra_model_paths.yaml is not valid YAML/)
    expect(inv.models.map((m) => m.name)).toEqual(['ae.safetensors'])
  })
})
