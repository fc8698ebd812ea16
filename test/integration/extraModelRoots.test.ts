// extra_model_paths.yaml is not only shown but used: a LoRA
// downloaded to a target whose yaml sets a default loras folder elsewhere
// lands there — locally (TypeScript engine) and on a pod (helper over a real
// sshd) — `podpull models` lists it from there, and a paused download in that
// folder resumes there (its stored path is inside a configured root).
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_SETTINGS, type DownloadRecord } from '../../src/shared/types'
import { LocalTarget } from '../../src/main/targets/local/localTarget'
import type { Target } from '../../src/main/targets/target'
import { assertBuilt, freshComfy, runCli } from '../support/cli'
import { podTarget, usePodHarness } from '../support/podTarget'
import { waitFor } from '../support/wait'

const pod = usePodHarness()
const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()))
})
const MiB = 1 << 20
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex')

/** A yaml whose default loras folder is <base>/shared/loras (relative base_path). */
function withSharedLoras(comfyui: string): string {
  const shared = join(comfyui, '..', 'shared', 'loras')
  mkdirSync(shared, { recursive: true })
  mkdirSync(join(comfyui, 'models', 'loras'), { recursive: true })
  writeFileSync(
    join(comfyui, 'extra_model_paths.yaml'),
    ['shared:', '    base_path: ../shared', '    is_default: true', '    loras: loras/', ''].join(
      '\n'
    )
  )
  return shared
}

async function downloadAndList(env: NodeJS.ProcessEnv, shared: string, models: string) {
  const f = pod.server.addFile(`/x/${Math.random().toString(36).slice(2)}/film.safetensors`, {
    size: 300_000,
    seed: 'film'
  })
  const dl = await runCli(['download', f.url, '--target', 't', '--folder', 'loras'], env)
  expect(dl.code, dl.stderr).toBe(0)
  const landed = join(shared, 'film.safetensors')
  expect(sha(landed)).toBe(f.sha256)
  expect(existsSync(join(models, 'loras', 'film.safetensors'))).toBe(false)
  const list = await runCli(['models', '--target', 't', '--json'], env)
  expect(list.code, list.stderr).toBe(0)
  const inv = JSON.parse(list.stdout) as { models: { folder: string; path: string }[] }
  expect(inv.models).toContainEqual(
    expect.objectContaining({ folder: 'loras', path: landed, extra: true })
  )
}

/** Pause at a gate the test holds, then resume: it completes in the extra folder. */
async function pauseResume(make: () => Promise<Target>, shared: string) {
  const f = pod.server.addFile(`/x/${Math.random().toString(36).slice(2)}/held.safetensors`, {
    size: 2 * MiB,
    seed: 'held',
    holdAt: 512 * 1024
  })
  const rec = (t: Target, id: string): DownloadRecord | undefined =>
    t.downloads().find((r) => r.id === id)
  const t = await make()
  // The dashboard's "Saves to" line asks the same question of the target.
  expect(await t.models!().directoryFor('loras/flux')).toEqual({
    dir: join(shared, 'flux'),
    extra: true
  })
  const { id, path } = await t.start({ url: f.url, folder: 'loras', connections: 1 })
  expect(path).toBe(join(shared, 'held.safetensors'))
  await waitFor(() => (rec(t, id)?.downloaded ?? 0) > 0, 'first bytes')
  await t.pause(id)
  await waitFor(() => rec(t, id), 'paused', { until: (r) => r?.state === 'paused' })
  pod.server.setFaults(f.path, { holdAt: undefined })
  await t.resume(id)
  await waitFor(() => rec(t, id), 'completed', { until: (r) => r?.state === 'completed' })
  expect(sha(path)).toBe(f.sha256)
}

describe('extra_model_paths.yaml decides where downloads go', () => {
  it('local target: the LoRA lands in the default extra folder; resume stays there', async () => {
    assertBuilt()
    const c = freshComfy(['checkpoints'])
    const shared = withSharedLoras(c.comfy)
    const env = { PODPULL_HOME: c.home }
    expect((await runCli(['targets', 'add-local', 't', '--comfyui', c.comfy], env)).code).toBe(0)
    await downloadAndList(env, shared, c.models)
    await pauseResume(async () => {
      const t = new LocalTarget(
        {
          id: 'l1',
          name: 'studio',
          config: { kind: 'local', comfyui: c.comfy, workspace: c.base }
        },
        {
          settings: () => ({ ...DEFAULT_SETTINGS, connections: 1 }),
          auth: () => undefined,
          authHint: () => undefined,
          statusPollMs: 300
        }
      )
      await t.open()
      closers.push(() => t.close())
      return t
    }, shared)
  })

  it('pod target: the helper puts it in the pod’s extra folder; resume stays there', async () => {
    assertBuilt()
    const w = pod.workspace()
    const shared = withSharedLoras(w.comfyui)
    const { home } = freshComfy([])
    const env = { PODPULL_HOME: home }
    const add = await runCli(
      [
        ...['targets', 'add-ssh', 't', '--host', '127.0.0.1', '--port', String(pod.sshd.port)],
        ...['--user', pod.sshd.user, '--key', pod.sshd.keyPath, '--workspace', w.ws],
        ...['--comfyui', w.comfyui, '--accept-new-host-key']
      ],
      env
    )
    expect(add.code, add.stderr).toBe(0)
    await downloadAndList(env, shared, join(w.comfyui, 'models'))
    await pauseResume(async () => {
      const t = podTarget(pod.sshd, w.store, { ws: w.ws, comfyui: w.comfyui })
      pod.targets.push(t)
      await t.open()
      return t
    }, shared)
  }, 120_000)
})
