// A pod target imported from RunPod, against the loopback fake of RunPod's API
// and a real sshd: before every connection it asks the API for the pod's
// address, so a restart that moves SSH to a new port is followed by itself,
// the trusted host key (kept under the pod id) still holds, and downloads the
// restart interrupted are resumed once SSH answers again.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_SETTINGS, type DownloadRecord } from '../../src/shared/types'
import type { SshRoute } from '../../src/shared/runpod'
import { PodTarget } from '../../src/main/targets/pod/podTarget'
import { runpodConnection, runpodTrustKey } from '../../src/main/runpod/runpodAddress'
import { RunpodApi } from '../../src/main/runpod/runpodApi'
import { stopWhenDone } from '../../src/main/runpod/stopWhenDone'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { fakePod, startFakeRunpod, type FakeRunpod } from '../harness/runpodApi'
import { killWorkers, newWorkspace, removeWorkspace } from '../support/podTarget'
import { waitFor } from '../support/wait'
import { sha256File } from '../support/localFiles'

const MiB = 1 << 20
let sshd: SshdHarness
let server: ModelServer
let fake: FakeRunpod
const targets: PodTarget[] = []
const roots: string[] = []
const workspaces: string[] = []

beforeAll(async () => {
  ;[sshd, server, fake] = await Promise.all([startSshd(), startModelServer(), startFakeRunpod()])
})
afterEach(async () => {
  if (!sshd.pid) await sshd.start()
  await Promise.all(targets.splice(0).map((t) => t.close()))
  workspaces.forEach(killWorkers)
})
afterAll(async () => {
  await Promise.all([sshd?.close(), server?.close(), fake?.close()])
  roots.forEach(removeWorkspace)
})

const record = (t: PodTarget, id: string): DownloadRecord | undefined =>
  t.downloads().find((r) => r.id === id)

function linkedTarget(): {
  t: PodTarget
  ws: string
  known: Record<string, string>
  moved: SshRoute[]
} {
  const w = newWorkspace()
  roots.push(w.root)
  workspaces.push(w.ws)
  fake.pods = [fakePod({ id: 'pd1', name: 'flux', portMappings: { '22': sshd.port } })]
  const known: Record<string, string> = { [runpodTrustKey('pd1')]: sshd.hostKeyFingerprint }
  const moved: SshRoute[] = []
  const api = (): RunpodApi =>
    new RunpodApi({ apiKey: fake.key, rest: fake.rest, graphql: fake.graphql })
  const config = {
    kind: 'ssh' as const,
    host: '127.0.0.1',
    port: sshd.port,
    user: sshd.user,
    keyPath: sshd.keyPath,
    workspace: w.ws,
    comfyui: w.comfyui,
    runpodPodId: 'pd1'
  }
  const t = new PodTarget(
    { id: 'rp1', name: 'flux', config },
    {
      settings: () => DEFAULT_SETTINGS,
      tokens: () => ({}),
      tokenHosts: () => ({ hf: [], civitai: [] }),
      knownHosts: { get: (k) => known[k], set: (k, v) => void (known[k] = v) },
      secret: () => undefined,
      cache: { load: () => undefined, save: () => undefined },
      connection: {
        agent: '',
        backoffInitialMs: 200,
        backoffMaxMs: 1000,
        ...runpodConnection('pd1', { via: 'direct', ...config }, api, (r) => moved.push(r))
      }
    }
  )
  targets.push(t)
  return { t, ws: w.ws, known, moved }
}

describe('a RunPod-linked pod', () => {
  it('follows a restart to a new SSH port by itself, keeping the trusted key, and goes on', async () => {
    const { t, known, moved } = linkedTarget()
    const f = server.addFile('/rp/a.safetensors', {
      size: 48 * MiB,
      seed: 'a',
      throttleBps: MiB / 2
    })
    await t.open()
    const { id, path } = await t.start({ url: f.url, folder: 'loras', connections: 1 })
    await waitFor(() => (record(t, id)?.downloaded ?? 0) > 0, 'first bytes')

    const oldPort = sshd.port
    await sshd.moveToNewPort()
    fake.pods[0]!.portMappings = { '22': sshd.port }
    await waitFor(() => moved.some((r) => r.port === sshd.port), 'the new port asked of the API')
    await waitFor(() => t.info().connection === 'online', 'online on the new port', 30_000)
    const before = record(t, id)?.downloaded ?? 0
    await waitFor(() => (record(t, id)?.downloaded ?? 0) > before, 'progress after the move')
    expect(sshd.port).not.toBe(oldPort)
    // Nothing new to trust: the key is kept under the pod, not the address.
    expect(Object.keys(known)).toEqual([runpodTrustKey('pd1')])

    server.setFaults(f.path, { throttleBps: undefined })
    await waitFor(() => record(t, id)?.state === 'completed', 'completed', 60_000)
    expect(sha256File(path)).toBe(f.sha256)
  })

  it('while stopped it stays offline; once started and SSH answers, interrupted downloads resume', async () => {
    const { t, ws } = linkedTarget()
    const f = server.addFile('/rp/b.safetensors', {
      size: 48 * MiB,
      seed: 'b',
      throttleBps: MiB / 4
    })
    await t.open()
    const { id, path } = await t.start({ url: f.url, folder: 'loras', connections: 1 })
    await waitFor(() => (record(t, id)?.downloaded ?? 0) > MiB / 2, 'first bytes')

    // The pod stops: its processes die with it, SSH goes away.
    fake.pods[0]!.desiredStatus = 'EXITED'
    const status = JSON.parse(readFileSync(join(ws, '.download_status.json'), 'utf8')) as Record<
      string,
      { id: string; owner?: { pid: number } | null }
    >
    const owner = Object.values(status).find((e) => e.id === id)?.owner
    await sshd.stop()
    if (owner) process.kill(owner.pid, 'SIGKILL')
    await waitFor(() => t.info().connection !== 'online', 'offline while stopped')

    server.setFaults(f.path, { throttleBps: undefined })
    const requestsBefore = server.requestsFor(f.path).length
    await sshd.moveToNewPort()
    fake.pods[0]!.desiredStatus = 'RUNNING'
    fake.pods[0]!.portMappings = { '22': sshd.port }
    await waitFor(() => record(t, id)?.state === 'completed', 'resumed and completed', 60_000)
    expect(sha256File(path)).toBe(f.sha256)
    const resumed = server.requestsFor(f.path).slice(requestsBefore)
    expect(resumed.some((r) => /^bytes=[1-9]\d*-/.test(String(r.headers.range)))).toBe(true)
  })

  it('explains a changed host key by the recreated container, and still asks to confirm it', async () => {
    const { t, known } = linkedTarget()
    await t.open()
    expect(t.info().connection).toBe('online')
    await t.close()
    await sshd.regenerateHostKey()
    fake.pods[0]!.lastStartedAt = '2026-12-02T00:45:00.000Z'
    const err = await t.open().then(
      () => null,
      (e: Error & { fingerprint?: string }) => e
    )
    expect(err?.message).toMatch(
      /^The pod was recreated on 2026-12-02 00:45 UTC; its SSH key is new\. The host key of runpod:pd1 changed/
    )
    expect(err?.fingerprint).toBe(sshd.hostKeyFingerprint)
    expect(t.info().connection).toBe('error')
    // Nothing trusted behind the user's back.
    expect(known[runpodTrustKey('pd1')]).not.toBe(sshd.hostKeyFingerprint)
  })

  it('stop when done: never while a download is active, then stops the pod and says so', async () => {
    const { t } = linkedTarget()
    const said: string[] = []
    const api = new RunpodApi({ apiKey: fake.key, rest: fake.rest, graphql: fake.graphql })
    const unwatch = stopWhenDone(t, 'flux', {
      stop: () => api.stopPod('pd1'),
      say: (m) => said.push(m)
    })
    try {
      const quick = server.addFile('/rp/q.safetensors', { size: MiB, seed: 'q' })
      const slow = server.addFile('/rp/s.safetensors', {
        size: 32 * MiB,
        seed: 's',
        throttleBps: MiB / 4
      })
      await t.open()
      const s = await t.start({ url: slow.url, folder: 'loras', connections: 1 })
      await waitFor(() => (record(t, s.id)?.downloaded ?? 0) > 0, 'slow one running')
      const q = await t.start({ url: quick.url, folder: 'loras', connections: 1 })
      await waitFor(() => record(t, q.id)?.state === 'completed', 'quick one completed')
      expect(record(t, s.id)?.state).toBe('downloading')
      expect(fake.pods[0]!.desiredStatus).toBe('RUNNING')
      expect(fake.requests.some((r) => r.path.endsWith('/stop'))).toBe(false)

      server.setFaults(slow.path, { throttleBps: undefined })
      await waitFor(() => fake.pods[0]!.desiredStatus === 'EXITED', 'the pod stopped', 60_000)
      expect(record(t, s.id)?.state).toBe('completed')
      expect(said).toEqual(['Stopped the pod "flux": its downloads finished.'])
    } finally {
      unwatch()
    }
  })
})
