// What a test of filling a RunPod network volume through the built CLI needs:
// the loopback fake of RunPod's API (whose created pods are real sshds on the
// volume's folder), a model server, a client key pair, a scratch folder, and
// a volume added as the target "vol". Pods' detached processes are stopped
// and everything closed after the file's tests.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect } from 'vitest'
import { startFakeRunpod, type FakeRunpod } from '../harness/runpodApi'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { assertBuilt, runCli } from './cli'
import { stopPodProcesses } from './podTarget'

export interface VolumeBench {
  fake: FakeRunpod
  server: ModelServer
  /** Only a client key pair (ssh-keygen'd in its temp dir). */
  keys: SshdHarness
  base: string
  /** The volumes' folders, whose pod processes are stopped at the end. */
  workspaces: string[]
}

export function volumeBench(prefix: string): VolumeBench {
  const b = { workspaces: [] as string[] } as VolumeBench
  beforeAll(async () => {
    assertBuilt()
    ;[b.fake, b.server, b.keys] = await Promise.all([
      startFakeRunpod(),
      startModelServer(),
      startSshd()
    ])
    b.base = mkdtempSync(join(tmpdir(), `podpull-${prefix}-`))
  })
  afterAll(async () => {
    await b.fake?.settled()
    b.workspaces.forEach(stopPodProcesses)
    await Promise.all([b.fake?.close(), b.server?.close(), b.keys?.close()])
    if (b.base) rmSync(b.base, { recursive: true, force: true })
  })
  return b
}

/**
 * A 50 GB volume `id` in EU-RO-1 whose folder (with ComfyUI/models/loras) is
 * what its pods mount, a PODPULL_HOME, the CLI's environment, and the volume
 * added as the target "vol" with the client key.
 */
export async function volumeTarget(
  b: VolumeBench,
  id: string,
  extraEnv: NodeJS.ProcessEnv = {}
): Promise<{ ws: string; home: string; env: NodeJS.ProcessEnv }> {
  const ws = join(b.base, id, 'volume')
  mkdirSync(join(ws, 'ComfyUI', 'models', 'loras'), { recursive: true })
  const home = join(b.base, id, 'home')
  mkdirSync(home)
  b.fake.volumes.push({ id, name: id, size: 50, dataCenterId: 'EU-RO-1' })
  b.fake.volumeDirs[id] = ws
  b.workspaces.push(ws)
  const env = {
    PODPULL_HOME: home,
    RUNPOD_API_KEY: b.fake.key,
    PODPULL_RUNPOD_ENDPOINT: b.fake.rest,
    PODPULL_RUNPOD_GRAPHQL: b.fake.graphql,
    SSH_AUTH_SOCK: '',
    ...extraEnv
  }
  const add = await runCli(
    [
      ...['targets', 'add-runpod-volume', 'vol', '--volume', id, '--key', b.keys.keyPath],
      ...['--workspace', ws, '--comfyui', join(ws, 'ComfyUI')]
    ],
    env
  )
  expect(add.code, add.stderr).toBe(0)
  return { ws, home, env }
}
