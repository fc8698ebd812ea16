// One cap for a local target across processes: two `podpull download`
// processes in terminals downloading into one workspace each run at half the
// cap (their status entries say the share they run at), and when one stops,
// the other takes the whole cap. Each process's share is read from the status
// file both write; the downloads are held at a gate of the test's server, so
// nothing here depends on how fast bytes move.
import { readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { assertBuilt, collect, freshComfy, runCli, spawnCli } from '../support/cli'
import { waitFor } from '../support/wait'

const MiB = 1 << 20
const CAP = 2e6
const c = freshComfy(['loras'])
const env = { PODPULL_HOME: c.home }
const statusFile = join(dirname(c.comfy), '.download_status.json')
let srv: ModelServer

beforeAll(async () => {
  assertBuilt()
  srv = await startModelServer()
  const add = await runCli(['targets', 'add-local', 'home', '--comfyui', c.comfy], env)
  expect(add.code, add.stderr).toBe(0)
  const set = await runCli(['targets', 'set', 'home', '--max-speed', '2MB'], env)
  expect(set.code, set.stderr).toBe(0)
})
afterAll(async () => {
  await srv?.close()
  rmSync(c.base, { recursive: true, force: true })
})

interface Entry {
  id: string
  filename: string
  status: string
  bandwidth_cap?: number | null
}
const entries = (): Entry[] => {
  try {
    return Object.values(JSON.parse(readFileSync(statusFile, 'utf8')) as Record<string, Entry>)
  } catch {
    return [] // not written yet
  }
}
const capOf = (name: string): number | null | undefined =>
  entries().find((e) => e.filename === name)?.bandwidth_cap

it('two processes share the cap; one that stops leaves it whole to the other', async () => {
  const a = srv.addFile('/share/a.safetensors', { size: 8 * MiB, seed: 'a', holdAt: MiB })
  const b = srv.addFile('/share/b.safetensors', { size: 8 * MiB, seed: 'b', holdAt: MiB })
  const pa = spawnCli(['download', a.url, '--target', 'home', '--folder', 'loras'], env)
  const pb = spawnCli(['download', b.url, '--target', 'home', '--folder', 'loras'], env)
  const [doneA, doneB] = [collect(pa), collect(pb)]
  try {
    for (const name of ['a.safetensors', 'b.safetensors'])
      await waitFor(() => capOf(name), `${name} at half the cap`, { until: (v) => v === CAP / 2 })

    // b is paused from a third process: a runs at the whole cap.
    const idB = entries().find((e) => e.filename === 'b.safetensors')!.id
    const pause = await runCli(['pause', idB, '--target', 'home'], env)
    expect(pause.code, pause.stderr).toBe(0)
    await doneB
    await waitFor(() => capOf('a.safetensors'), 'a at the whole cap', { until: (v) => v === CAP })

    // Lifted, and let through: a completes with the right bytes.
    const off = await runCli(['targets', 'set', 'home', '--max-speed', 'unlimited'], env)
    expect(off.code, off.stderr).toBe(0)
    srv.setFaults(a.path, { holdAt: undefined })
    const ra = await doneA
    expect(ra.code, ra.stderr).toBe(0)
    expect(capOf('a.safetensors')).toBeNull()
  } finally {
    pa.kill('SIGKILL')
    pb.kill('SIGKILL')
  }
})
