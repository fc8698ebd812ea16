// PodTarget through a real sshd configured like RunPod's SSH proxy (ForceCommand:
// interactive PTY sessions only, no exec, no SFTP, no forwarding, one channel
// per connection, a coloured banner and prompt). PodTarget finds out by itself
// that only a terminal is there; what a user sees is the same as over exec +
// SFTP: downloads land, go on through a cut link and a closed app, a killed
// worker resumes with a Range request, tokens never reach argv, files or logs.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import type { DownloadRecord } from '../../src/shared/types'
import type { PodTarget } from '../../src/main/targets/pod/podTarget'
import { SshConnection } from '../../src/main/ssh/sshConnection'
import { podTarget, usePodHarness } from '../support/podTarget'
import { waitFor } from '../support/wait'
import { sidecarDone } from '../support/partFiles'
import { sha256File } from '../support/localFiles'

vi.mock('../harness/sshd', async (importOriginal) => {
  const real = await importOriginal<typeof import('../harness/sshd')>()
  return {
    ...real,
    startSshd: (o: Parameters<typeof real.startSshd>[0] = {}) =>
      real.startSshd({ ...o, ptyOnly: true, maxSessions: 1 })
  }
})

const MiB = 1 << 20
const pod = usePodHarness()

const record = (t: PodTarget, id: string): DownloadRecord | undefined =>
  t.downloads().find((r) => r.id === id)
const statusFile = (ws: string): Record<string, Record<string, unknown>> =>
  JSON.parse(readFileSync(join(ws, '.download_status.json'), 'utf8'))

function open(
  w: ReturnType<typeof pod.workspace>,
  extra: Parameters<typeof podTarget>[2] extends infer O ? Partial<O> : never = {}
): Promise<PodTarget> {
  const t = podTarget(pod.sshd, w.store, { ws: w.ws, comfyui: w.comfyui, ...extra })
  pod.targets.push(t)
  return t.open().then(() => t)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'
  } catch {
    return false
  }
}

describe('the proxy-like sshd', () => {
  it('refuses exec requests and SFTP, so only the terminal can work', async () => {
    const known: Record<string, string> = {}
    const conn = new SshConnection({
      host: pod.sshd.host,
      port: pod.sshd.port,
      user: pod.sshd.user,
      keyPath: pod.sshd.keyPath,
      knownHosts: { get: (k) => known[k], set: (k, v) => void (known[k] = v) },
      acceptHostKey: () => pod.sshd.hostKeyFingerprint,
      agent: ''
    })
    try {
      const r = await conn.exec('echo hello')
      expect(r.stdout).not.toContain('hello')
      expect(r.code).not.toBe(0)
      await expect(conn.sftp()).rejects.toThrow()
    } finally {
      conn.close()
    }
  })
})

describe('pod downloads over the terminal', () => {
  it('land, keep showing progress through a cut link and a closed app, then complete', async () => {
    const w = pod.workspace()
    // Slow enough that the job is still running through every step below;
    // full speed once they are done.
    const f = pod.server.addFile('/pty/a.safetensors', {
      size: 64 * MiB,
      seed: 'a',
      throttleBps: MiB / 2
    })
    const first = await open(w)
    expect(first.info().connection).toBe('online')
    const { id, path } = await first.start({ url: f.url, folder: 'loras', connections: 1 })
    await waitFor(() => (record(first, id)?.downloaded ?? 0) > 0, 'first bytes')

    await pod.sshd.killConnections()
    await waitFor(() => first.info().connection !== 'online', 'the drop noticed')
    await waitFor(() => first.info().connection === 'online', 'reconnected')
    const afterDrop = record(first, id)?.downloaded ?? 0
    await waitFor(() => (record(first, id)?.downloaded ?? 0) > afterDrop, 'progress after the drop')

    await first.close()
    const cached = w.store.cache?.find((r) => r.id === id)
    expect(cached?.state).toBe('downloading')
    const second = await open(w)
    await waitFor(
      () => (record(second, id)?.downloaded ?? 0) > (cached?.downloaded ?? 0),
      'progress seen by a new PodTarget'
    )
    pod.server.setFaults(f.path, { throttleBps: undefined })
    await waitFor(() => record(second, id)?.state === 'completed', 'completed', 60_000)
    expect(sha256File(path)).toBe(f.sha256)
    expect(path).toBe(join(w.comfyui, 'models', 'loras', 'a.safetensors'))
  })

  it('resumes a killed worker with a Range request on the next open', async () => {
    const w = pod.workspace()
    const size = 48 * MiB
    // The worker saves its sidecar about once a second, so a kill loses what came
    // after the last save: hold the server at 2 MiB and kill once the sidecar has it all.
    const f = pod.server.addFile('/pty/d.safetensors', { size, seed: 'd', holdAt: 2 * MiB })
    const first = await open(w)
    const { id, path } = await first.start({ url: f.url, folder: 'unet', connections: 1 })
    await waitFor(() => sidecarDone(`${path}.part.json`) === 2 * MiB, 'the first 2 MiB saved')
    await first.close()
    const owner = Object.values(statusFile(w.ws)).find((e) => e.id === id)?.owner as {
      pid: number
    }
    process.kill(owner.pid, 'SIGKILL')
    await waitFor(() => !alive(owner.pid), 'worker gone')
    await waitFor(() => pod.server.openResponses(f.path) === 0, 'its request closed')
    pod.server.setFaults(f.path, { holdAt: undefined })
    const requestsBefore = pod.server.requestsFor(f.path).length

    const second = await open(w)
    await waitFor(() => record(second, id)?.state === 'completed', 'completed', 60_000)
    expect(sha256File(path)).toBe(f.sha256)
    const resumed = pod.server.requestsFor(f.path).slice(requestsBefore)
    expect(resumed.some((r) => /^bytes=[1-9]\d*-/.test(String(r.headers.range)))).toBe(true)
    expect(pod.server.bytesServed(f.path)).toBeLessThanOrEqual(size * 1.02)
  }, 120_000)

  it('sends tokens on stdin only: no argv, status file, log, cache or shell history has them', async () => {
    const w = pod.workspace()
    const token = 'hf_' + Math.random().toString(36).slice(2) + 'PTYSECRET'
    const f = pod.server.addFile('/pty/e.safetensors', {
      size: 8 * MiB,
      seed: 'e',
      throttleBps: MiB,
      requireToken: token
    })
    const t = await open(w, {
      tokens: { hf: token },
      tokenHosts: { hf: [new URL(pod.server.url).host], civitai: [] }
    })
    const { id, path } = await t.start({ url: f.url, folder: 'loras', connections: 1 })
    const owner = await waitFor(
      () => Object.values(statusFile(w.ws)).find((e) => e.id === id && e.owner)?.owner,
      'a running worker'
    )
    expect(readFileSync(`/proc/${(owner as { pid: number }).pid}/cmdline`, 'utf8')).not.toContain(
      token
    )
    pod.server.setFaults(f.path, { throttleBps: undefined })
    await waitFor(() => record(t, id)?.state === 'completed', 'completed', 60_000)
    expect(sha256File(path)).toBe(f.sha256)
    expect(
      pod.server.requestsFor(f.path).some((r) => r.headers.authorization === `Bearer ${token}`)
    ).toBe(true)
    expect(readFileSync(join(w.ws, '.download_status.json'), 'utf8')).not.toContain(token)
    const log = readFileSync(join(w.ws, '.podpull', 'logs', `${id}.log`), 'utf8')
    expect(log).not.toContain(token)
    await t.close()
    expect(JSON.stringify(w.store.cache)).not.toContain(token)
    const history = join(pod.sshd.home, '.bash_history')
    if (existsSync(history)) expect(readFileSync(history, 'utf8')).not.toContain(token)
  })
})
