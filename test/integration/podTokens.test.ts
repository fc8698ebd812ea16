// A pod gets only the token its download's host needs, or none. The pod's
// python3 is a wrapper that records each helper request (stdin) before
// running the real one, so the test sees exactly what reached the pod.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { pathWithout } from '../harness/pathWithout'
import { killWorkers, newStore, newWorkspace, podTarget } from '../support/podTarget'
import { waitFor } from '../support/wait'
import { MAX_POD_RECORDS } from '../../src/main/targets/pod/podRecordCap'

const HF = 'hf_only_for_hf_' + Math.random().toString(36).slice(2)
const CIVITAI = 'civ_never_sent_' + Math.random().toString(36).slice(2)

let sshd: SshdHarness
let srv: ModelServer
let tmp: string
let recorded: string

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'podpull-podtokens-'))
  recorded = join(tmp, 'requests')
  execFileSync('mkdir', ['-p', recorded, join(tmp, 'bin')])
  const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
    encoding: 'utf8'
  }).trim()
  const wrapper = join(tmp, 'bin', 'python3')
  writeFileSync(
    wrapper,
    '#!/bin/sh\n' +
      `f=$(mktemp ${recorded}/req.XXXXXX)\n` +
      'cat > "$f"\n' +
      `exec ${python} "$@" < "$f"\n`
  )
  chmodSync(wrapper, 0o755)
  const path = `${join(tmp, 'bin')}:${pathWithout(['python3'], tmp)}`
  ;[sshd, srv] = await Promise.all([startSshd({ sessionEnv: { PATH: path } }), startModelServer()])
})
afterAll(async () => {
  await Promise.all([sshd?.close(), srv?.close()])
  rmSync(tmp, { recursive: true, force: true })
})

/** Every helper request that carried this URL. */
function requestsFor(url: string): { tokens?: Record<string, string> }[] {
  return readdirSync(recorded)
    .map((f) => readFileSync(join(recorded, f), 'utf8'))
    .filter((text) => text.includes(url))
    .map((text) => JSON.parse(text) as { tokens?: Record<string, string> })
}

describe('tokens sent to a pod', () => {
  it('only the one its URL needs: the HF token for an HF host, none for another host', async () => {
    const w = newWorkspace()
    const store = newStore()
    store.knownHosts[`127.0.0.1:${sshd.port}`] = sshd.hostKeyFingerprint
    const hfHost = new URL(srv.url).host // stands in for huggingface.co
    const gated = srv.addFile('/tok/gated.safetensors', { size: 1 << 20, requireToken: HF })
    const other = srv.addFile('/tok/open.safetensors', { size: 1 << 20, seed: 'open' })
    const t = podTarget(sshd, store, {
      ws: w.ws,
      comfyui: w.comfyui,
      tokens: { hf: HF, civitai: CIVITAI },
      tokenHosts: { hf: [hfHost], civitai: [] }
    })
    try {
      await t.open()
      const a = await t.start({ url: gated.url, folder: 'loras', connections: 1 })
      // The second host (another port) is not a token host.
      const b = await t.start({ url: other.secondUrl, folder: 'loras', connections: 1 })
      await waitFor(
        () => t.downloads().filter((r) => r.state === 'completed').length === 2,
        'both completed',
        60_000
      )
      expect(t.downloads().find((r) => r.id === a.id)?.state).toBe('completed')
      expect(t.downloads().find((r) => r.id === b.id)?.state).toBe('completed')

      const toGated = requestsFor(gated.url)
      expect(toGated.length).toBeGreaterThan(0)
      for (const r of toGated) expect(r.tokens).toEqual({ hf: HF })
      const toOther = requestsFor(other.secondUrl)
      expect(toOther.length).toBeGreaterThan(0)
      for (const r of toOther) expect(r.tokens).toEqual({})
      // The Civitai token had no download that needed it: it never left the app.
      const everything = readdirSync(recorded)
        .map((f) => readFileSync(join(recorded, f), 'utf8'))
        .join('\n')
      expect(everything).not.toContain(CIVITAI)
    } finally {
      await t.close()
      killWorkers(w.ws)
      rmSync(w.root, { recursive: true, force: true })
    }
  })
})

describe('entries planted in the pod status file', () => {
  it('are never resumed by themselves and never get a token; ours still are', async () => {
    const w = newWorkspace()
    const store = newStore()
    store.knownHosts[`127.0.0.1:${sshd.port}`] = sshd.hostKeyFingerprint
    const host = new URL(srv.url).host // stands in for huggingface.co and civitai.com
    const bait = srv.addFile('/planted/bait.safetensors', { size: 1 << 20, requireToken: HF })
    const ours = srv.addFile('/planted/ours.safetensors', {
      size: 4 << 20,
      seed: 'ours',
      requireToken: HF,
      holdAt: 1 << 20
    })
    const loras = join(w.comfyui, 'models', 'loras')
    execFileSync('mkdir', ['-p', loras])
    const planted = (id: string, url: string) => ({
      status: 'paused',
      interrupted: true,
      resumable: true,
      id,
      url,
      folder: 'loras',
      filename: 'planted.safetensors',
      timestamp: Date.now() / 1000
    })
    writeFileSync(
      join(w.ws, '.download_status.json'),
      JSON.stringify({
        '/etc/planted.safetensors': planted('b0b0b0b0b0b0b0b0', bait.url),
        [join(loras, 'planted.safetensors')]: planted('c0c0c0c0c0c0c0c0', bait.url)
      })
    )
    const t = podTarget(sshd, store, {
      ws: w.ws,
      comfyui: w.comfyui,
      settings: { autoResume: true },
      tokens: { hf: HF, civitai: CIVITAI },
      tokenHosts: { hf: [host], civitai: [] }
    })
    try {
      await t.open()
      // The one planted inside models/ is listed; the one at /etc never is.
      await waitFor(() => t.downloads().length === 1, 'the planted entry inside models/ listed')
      expect(t.downloads()[0]?.path).toBe(join(loras, 'planted.safetensors'))
      // One of ours, cut by its worker dying: it is resumed (with the token it needs).
      const mine = await t.start({ url: ours.url, folder: 'loras', connections: 1 })
      await waitFor(() => srv.bytesServed(ours.path) >= 1 << 20, 'ours half way')
      killWorkers(w.ws)
      srv.setFaults(ours.path, { holdAt: undefined })
      await waitFor(
        () => t.downloads().find((r) => r.id === mine.id)?.state,
        'ours resumed by itself',
        { until: (s) => s === 'completed', ms: 60_000 }
      )
      // By now every interrupted entry had its chance: the planted ones were
      // neither resumed nor given a token, and the pod never saw one for them.
      const asked = readdirSync(recorded).map((f) => readFileSync(join(recorded, f), 'utf8'))
      expect(asked.filter((r) => /b0b0b0b0|c0c0c0c0/.test(r))).toEqual([])
      expect(srv.requestsFor(bait.path)).toEqual([])
      expect(
        t
          .downloads()
          .filter((r) => r.id !== mine.id)
          .map((r) => r.state)
      ).toEqual(['paused'])
      expect(t.downloads().some((r) => r.path.startsWith('/etc/'))).toBe(false)

      // The user resumes the one outside the models folder by hand: refused,
      // and still no token leaves for it.
      await expect(t.resume('b0b0b0b0b0b0b0b0')).rejects.toThrow(/PodPull will not write there/)
      const forIt = readdirSync(recorded)
        .map((f) => readFileSync(join(recorded, f), 'utf8'))
        .filter((r) => r.includes('b0b0b0b0'))
      expect(forIt.length).toBe(1)
      expect(forIt[0]).not.toContain(HF)
    } finally {
      await t.close()
      killWorkers(w.ws)
      rmSync(w.root, { recursive: true, force: true })
    }
  })
  it('past the cap, only the running and newest are kept and saved, and the card says so', async () => {
    const w = newWorkspace()
    const store = newStore()
    store.knownHosts[`127.0.0.1:${sshd.port}`] = sshd.hostKeyFingerprint
    const loras = join(w.comfyui, 'models', 'loras')
    execFileSync('mkdir', ['-p', loras])
    const n = MAX_POD_RECORDS + 500
    const file: Record<string, unknown> = {}
    for (let i = 0; i < n; i++)
      file[join(loras, `f${i}.safetensors`)] = {
        id: i.toString(16).padStart(16, '0'),
        status: i === 0 ? 'paused' : 'completed',
        url: `https://example.com/f${i}.safetensors`,
        timestamp: Date.now() / 1000 - n + i
      }
    writeFileSync(join(w.ws, '.download_status.json'), JSON.stringify(file))
    const t = podTarget(sshd, store, { ws: w.ws, comfyui: w.comfyui })
    try {
      await t.open()
      await waitFor(() => t.info().notice, 'the card says some were left out')
      expect(t.info().notice).toMatch(/lists 5,500 downloads/)
      expect(t.downloads()).toHaveLength(MAX_POD_RECORDS)
      await t.close()
      expect(store.cache).toHaveLength(MAX_POD_RECORDS)
      expect(store.cache!.some((r) => r.state === 'paused')).toBe(true)
    } finally {
      await t.close()
      rmSync(w.root, { recursive: true, force: true })
    }
  })
})
