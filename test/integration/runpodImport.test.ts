// Importing a RunPod pod from the dashboard and stop-when-done, through the
// same handler table the app and `podpull serve` run, against the loopback fake
// of RunPod's API and a real sshd: the API key saved like the other tokens,
// first contact asks to confirm the pod's host key (nothing saved before), and with stop-when-done on the
// pod is never stopped while a download runs — then it is, and PodPull says so
// on the target, in a desktop notification and in the app log.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, type PodPullApp } from '../../src/main/app'
import { memoryTokenStore } from '../../src/main/core/tokenStore'
import { createNodeStore } from '../../src/main/settings/createStore'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { fakePod, startFakeRunpod, type FakeRunpod } from '../harness/runpodApi'
import { killWorkers, newWorkspace, removeWorkspace } from '../support/podTarget'
import { waitFor } from '../support/wait'

const MiB = 1 << 20
let sshd: SshdHarness
let server: ModelServer
let fake: FakeRunpod
let home: string
const saved: Record<string, string | undefined> = {}
const ENV = ['PODPULL_RUNPOD_ENDPOINT', 'PODPULL_RUNPOD_GRAPHQL', 'RUNPOD_API_KEY', 'SSH_AUTH_SOCK']

beforeAll(async () => {
  ;[sshd, server, fake] = await Promise.all([startSshd(), startModelServer(), startFakeRunpod()])
  for (const k of ENV) saved[k] = process.env[k]
  process.env.PODPULL_RUNPOD_ENDPOINT = fake.rest
  process.env.PODPULL_RUNPOD_GRAPHQL = fake.graphql
  process.env.SSH_AUTH_SOCK = ''
  delete process.env.RUNPOD_API_KEY
  home = mkdtempSync(join(tmpdir(), 'podpull-rpimport-'))
})
afterAll(async () => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k]
    else process.env[k] = saved[k]
  }
  await Promise.all([sshd?.close(), server?.close(), fake?.close()])
  rmSync(home, { recursive: true, force: true })
})

describe('a RunPod pod imported from the dashboard', () => {
  it('imports after the host key is confirmed, then stops the pod only once its downloads ended, and says so', async () => {
    const w = newWorkspace()
    fake.pods = [fakePod({ id: 'pd1', name: 'flux', portMappings: { '22': sshd.port } })]
    const notified: string[] = []
    const app: PodPullApp = await createApp({
      store: createNodeStore(home),
      host: 'headless',
      tokens: memoryTokenStore({}),
      home,
      native: {
        pickFolder: async () => null,
        openFolder: async () => undefined,
        notify: (title, body) => notified.push(`${title}: ${body}`)
      }
    })
    const h = app.handlers
    try {
      // No key yet: one clear sentence, nothing sent to RunPod.
      await expect(h.runpodPods({})).rejects.toMatchObject({ code: 'runpod-key' })
      expect(fake.requests).toHaveLength(0)
      // Saved in Settings like the other tokens; the UI only learns it is set.
      const status = await h.setToken({ kind: 'runpod', value: fake.key })
      expect(status.runpod).toBe(true)
      expect(JSON.stringify(await h.getSnapshot({}))).not.toContain(fake.key)

      // First contact: the fingerprint comes back to confirm; nothing is saved.
      // (ComfyUI named here; the probe would also find it as <workspace>/ComfyUI.)
      const args = { pod: 'flux', keyPath: sshd.keyPath, workspace: w.ws, comfyui: w.comfyui }
      const first = await h.runpodImport(args)
      expect(first.target).toBeNull()
      expect(first.test).toMatchObject({
        needsHostKeyConfirmation: true,
        fingerprint: sshd.hostKeyFingerprint
      })
      expect(app.core.targetInfos()).toHaveLength(0)

      const { target, via } = await h.runpodImport({
        ...args,
        acceptHostKey: sshd.hostKeyFingerprint
      })
      expect(via).toBe('direct')
      expect(target).toMatchObject({
        name: 'flux',
        connection: 'online',
        comfyui: w.comfyui,
        config: { kind: 'ssh', runpodPodId: 'pd1', host: '127.0.0.1', port: sshd.port }
      })
      const id = target!.id
      // Stop-when-done is for RunPod-linked pods, switched on from the card.
      const on = await h.updateTarget({ id, patch: { stopWhenDone: true } })
      expect(on.config).toMatchObject({ stopWhenDone: true })

      const f = server.addFile('/rpi/a.safetensors', {
        size: 16 * MiB,
        seed: 'a',
        throttleBps: MiB / 4
      })
      const started = await h.startDownload({
        targetId: id,
        url: f.url,
        folder: 'loras',
        connections: 1
      })
      const rec = () => app.core.downloads().find((r) => r.id === started.id)
      await waitFor(() => (rec()?.downloaded ?? 0) > 0, 'the download running')
      // Running: the pod stays up, and nothing claims otherwise.
      expect(fake.requests.some((r) => r.path.endsWith('/stop'))).toBe(false)
      expect(fake.pods[0]!.desiredStatus).toBe('RUNNING')
      expect(app.core.targetInfos()[0]?.notice).toBeUndefined()

      server.setFaults(f.path, { throttleBps: undefined })
      await waitFor(() => fake.pods[0]!.desiredStatus === 'EXITED', 'the pod stopped', 60_000)
      expect(rec()?.state).toBe('completed')
      const message = 'Stopped the pod "flux": its downloads finished.'
      await waitFor(() => app.core.targetInfos()[0]?.notice === message, 'the notice on the card')
      expect(notified).toEqual([`PodPull: ${message}`])

      // Starting it again from the card clears the notice.
      await h.runpodStart({ pod: id })
      expect(fake.pods[0]!.desiredStatus).toBe('RUNNING')
      expect(app.core.targetInfos()[0]?.notice).toBeUndefined()
    } finally {
      await app.dispose()
      killWorkers(w.ws)
      removeWorkspace(w.root)
    }
    const log = readFileSync(join(home, 'logs', 'podpull.log'), 'utf8')
    expect(log).toContain('Stopped the pod \\"flux\\": its downloads finished.')
    expect(log).not.toContain(fake.key)
  })
})
