// What a test of filling a RunPod network volume through the built CLI needs:
// the loopback fake of RunPod's API (whose created pods are real sshds on the
// volume's folder), a model server, a client key pair, a scratch folder, and
// a volume added as the target "vol". Pods' detached processes are stopped
// and everything closed after the file's tests.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect } from 'vitest'
import { startFakeRunpod, type FakeRunpod } from '../harness/runpodApi'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { assertBuilt, runCli } from './cli'
import { stopPodProcesses } from './podTarget'
import { pathWithout } from '../harness/pathWithout'

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
  extraEnv: NodeJS.ProcessEnv = {},
  addArgs: readonly string[] = []
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
      ...['--workspace', ws, '--comfyui', join(ws, 'ComfyUI')],
      ...addArgs
    ],
    env
  )
  expect(add.code, add.stderr).toBe(0)
  return { ws, home, env }
}

/** What the fill pod's PATH offers as `runpodctl`. */
export type Runpodctl = 'works' | 'fails' | 'missing'

/**
 * A volume target, its fill pod's `runpodctl` (a stand-in that records its
 * arguments and whether it saw the pod-scoped key, then exits 0 or 1; or
 * none on the PATH at all), and a detached download to it held half-way
 * until `release`.
 */
export async function heldFill(
  b: VolumeBench,
  id: string,
  o: { env?: NodeJS.ProcessEnv; addArgs?: readonly string[]; runpodctl?: Runpodctl }
) {
  const { ws, env } = await volumeTarget(b, id, o.env, o.addArgs)
  const bin = join(b.base, id, 'bin')
  mkdirSync(bin)
  const calls = join(bin, 'calls.log')
  const runpodctl = o.runpodctl ?? 'works'
  b.fake.podBin = undefined
  b.fake.podPath = undefined
  if (runpodctl === 'missing') b.fake.podPath = pathWithout(['runpodctl'], bin)
  else {
    const key = `$([ "$RUNPOD_API_KEY" = "${b.fake.podKey}" ] && echo pod || echo other)`
    const exit = runpodctl === 'works' ? 0 : 1
    writeFileSync(
      join(bin, 'runpodctl'),
      `#!/bin/sh\necho "$* key=${key}" >> ${calls}\nexit ${exit}\n`
    )
    chmodSync(join(bin, 'runpodctl'), 0o755)
    b.fake.podBin = bin
  }
  const path = `/${id}/a.safetensors`
  const file = b.server.addFile(path, { size: 1 << 20, seed: id, holdAt: 1 << 19 })
  const r = await runCli(
    ['download', file.url, '--target', 'vol', '--folder', 'loras', '--yes', '--detach'],
    env
  )
  expect(r.code, r.stderr).toBe(0)
  const podId = b.fake.created.find((c) => c.body.networkVolumeId === id)!.podId
  return { ws, podId, calls, release: () => b.server.setFaults(path, { holdAt: undefined }) }
}
