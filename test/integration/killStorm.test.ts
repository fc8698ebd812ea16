// The kill storm: 6 local and 4 pod downloads, each started with `--detach`,
// their workers killed with SIGKILL again and again and sshd restarted once,
// while a loop does what a user would — `podpull status --json`, then
// `podpull resume ID --detach` on whatever is paused. Every kill comes at a
// gate: the model server holds each file at an offset, the worker is killed
// once its sidecar records everything up to it, and the gate moves on. It ends
// with every file right, no `.part` left and ≤ 1.15× the bytes fetched.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startModelServer, type ModelServer, type ServedFile } from '../harness/modelServer'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { assertBuilt, freshComfy, runCli, type CliRun } from '../support/cli'
import { sidecarDone } from '../support/partFiles'
import { waitFor } from '../support/wait'

const MiB = 1 << 20
let srv: ModelServer
let sshd: SshdHarness

beforeAll(async () => {
  assertBuilt()
  ;[srv, sshd] = await Promise.all([startModelServer(), startSshd()])
})
afterAll(async () => {
  await Promise.all([srv?.close(), sshd?.close()])
})

type Entry = { id: string; status: string; owner: { pid: number } | null }
type Kind = 'box' | 'pod'

interface Job {
  kind: Kind
  file: ServedFile
  path: string
  /** Offsets the server holds the file at, one kill each. */
  gates: number[]
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex')
const statusOf = (workspace: string): Record<string, Entry> => {
  try {
    return JSON.parse(readFileSync(join(workspace, '.download_status.json'), 'utf8'))
  } catch {
    return {} // being replaced this instant: read again
  }
}
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

it('6 local + 4 pod downloads survive repeated SIGKILLs and an sshd restart', async () => {
  const local = freshComfy(['loras'])
  const pod = freshComfy(['loras'])
  const env = { PODPULL_HOME: local.home }
  const cli = (args: string[]): Promise<CliRun> => runCli(args, env)
  expect((await cli(['targets', 'add-local', 'box', '--comfyui', local.comfy])).code).toBe(0)
  const addPod = await cli(
    ['targets', 'add-ssh', 'pod', '--host', sshd.host, '--port', String(sshd.port)]
      .concat(['--user', sshd.user, '--key', sshd.keyPath, '--workspace', pod.base])
      .concat(['--comfyui', pod.comfy, '--accept-new-host-key'])
  )
  expect(addPod.code, addPod.stderr).toBe(0)
  const ws = { box: local.base, pod: pod.base }

  const jobs: Job[] = Array.from({ length: 10 }, (_, i) => {
    const kind: Kind = i < 6 ? 'box' : 'pod'
    const size = 4 * MiB + i * 4096
    // Two kills for the first two of each kind, one for the rest: 14 in all.
    const twice = i === 0 || i === 1 || i === 6 || i === 7
    const gates = twice ? [size * 0.3, size * 0.65] : [size * 0.5]
    const name = `storm-${i}.safetensors`
    const file = srv.addFile(`/storm/${name}`, {
      size,
      seed: `storm${i}`,
      throttleBps: 2 * MiB,
      holdAt: Math.floor(gates[0]!)
    })
    const models = kind === 'box' ? local.models : pod.models
    return { kind, file, path: join(models, 'loras', name), gates: gates.map(Math.floor) }
  })

  for (const j of jobs) {
    const r = await cli(
      [
        'download',
        j.file.url,
        '--target',
        j.kind,
        '--folder',
        'loras',
        '--connections',
        '2'
      ].concat(['--detach'])
    )
    expect(r.code, r.stderr).toBe(0)
  }

  let kills = 0
  let restarted: Promise<void> | undefined
  const killer = async (j: Job): Promise<void> => {
    let last = -1
    for (let k = 0; k < j.gates.length; k++) {
      const gate = j.gates[k]!
      // Held at the gate, everything up to it recorded by a live worker: kill it.
      const e = await waitFor(() => statusOf(ws[j.kind])[j.path], `${j.path} held at ${gate}`, {
        until: (e) =>
          e?.owner != null &&
          e.owner.pid !== last &&
          alive(e.owner.pid) &&
          sidecarDone(`${j.path}.part.json`) >= gate,
        ms: 180_000
      })
      last = e.owner!.pid
      process.kill(last, 'SIGKILL')
      if (++kills === 5) restarted = sshd.stop().then(() => sshd.start())
      // The server saw the connections go before the gate moves on.
      await waitFor(() => srv.openResponses(j.file.path) === 0, 'the killed requests closed')
      srv.setFaults(j.file.path, { holdAt: j.gates[k + 1] })
    }
  }

  // The user: look, and resume what is paused; "resume --detach" runs it or says why not.
  let storming = true
  const refusals: string[] = []
  const user = async (): Promise<void> => {
    const list = JSON.parse((await cli(['targets', 'list', '--json'])).stdout) as {
      id: string
      name: Kind
    }[]
    const nameOf = new Map(list.map((t) => [t.id, t.name]))
    while (storming) {
      const st = await cli(['status', '--json'])
      let records: { id: string; targetId: string; state: string }[] = []
      try {
        records = JSON.parse(st.stdout)
      } catch {
        refusals.push(st.stderr.trim()) // said why on stderr; look again
      }
      // All at once, as several terminals would.
      const paused = records.filter((r) => r.state === 'paused')
      const answers = await Promise.all(
        paused.map((r) => cli(['resume', r.id, '--target', nameOf.get(r.targetId)!, '--detach']))
      )
      for (const res of answers) {
        if (res.code === 0) expect(res.stdout).toMatch(/Resumed|already running/)
        else refusals.push(res.stderr.trim())
      }
    }
  }

  const looking = user()
  await Promise.all(jobs.map(killer))
  await restarted
  expect(kills).toBe(14)
  await waitFor(
    () => jobs.every((j) => statusOf(ws[j.kind])[j.path]?.status === 'completed'),
    'every download completed',
    { ms: 180_000 }
  )
  storming = false
  await looking

  let fetched = 0
  let total = 0
  for (const j of jobs) {
    expect(sha(j.path), j.path).toBe(j.file.sha256)
    fetched += srv.bytesServed(j.file.path)
    total += j.file.size
  }
  for (const dir of [join(local.models, 'loras'), join(pod.models, 'loras')])
    expect(readdirSync(dir).filter((n) => n.endsWith('.part') || n.endsWith('.part.json'))).toEqual(
      []
    )
  expect(fetched).toBeLessThanOrEqual(total * 1.15)
  // Every refusal said why in one line (a pod unreachable during the restart, a race lost).
  for (const r of refusals) expect(r).toMatch(/^Error: \S/)
  expect(existsSync(join(local.base, '.download_status.json'))).toBe(true)
}, 600_000)
