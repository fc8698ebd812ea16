// The pod helper against Hugging Face as it serves today (see hubLinks.test.ts
// for the engine): resolve/ asked without Range, ranges only to the signed Xet
// link on another host (127.0.0.2), a new link only when one is refused or
// expired; rate limits waited and shown, or, past the cap, a pause that says why.
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { hubAndCdn } from '../support/serverScratch'
import { waitFor } from '../support/wait'
import {
  FAST,
  readStatusFile,
  runHelper,
  waitForState,
  type StatusEntry
} from '../conformance/helperDriver'

const MB = 1_000_000
const fx = hubAndCdn()
let root: string
let n = 0

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'helper-fx.hub-links-'))
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

function job(size: number) {
  const id = ++n
  const f = fx.cdn.addFile(`/hx/${id}/model.safetensors`, { size, seed: `hx${id}` })
  fx.hub.addRepo({ id: `org/hx${id}`, xet: true, files: [{ path: 'model.safetensors', cdn: f }] })
  const workspace = join(root, `w${id}`)
  const modelsDir = join(workspace, 'ComfyUI', 'models')
  mkdirSync(modelsDir, { recursive: true })
  const url = `${fx.hub.hfUrl}/org/hx${id}/resolve/main/model.safetensors`
  return { f, url, workspace, modelsDir, path: join(modelsDir, 'checkpoints', 'model.safetensors') }
}

async function start(j: ReturnType<typeof job>, over: Record<string, unknown> = {}) {
  const a = await runHelper('start', {
    workspace: j.workspace,
    models_dir: j.modelsDir,
    url: j.url,
    folder: 'checkpoints',
    filename: 'model.safetensors',
    connections: 1,
    // The Hub's token goes to the Hub's host only; the CDN answers 400 to any.
    tokens: { hf: 'hf_token' },
    token_hosts: { hf: [new URL(fx.hub.hfUrl).host] },
    ...FAST,
    ...over
  })
  expect(a.ok, String(a.error)).toBe(true)
  return a.id as string
}

const resolvesOf = (url: string) => fx.hub.log.filter((q) => q.path === new URL(url).pathname)
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex')
const entryOf = (workspace: string, id: string): StatusEntry | undefined =>
  Object.values(readStatusFile(workspace)).find((e) => e.id === id)

describe('helper: resolve once, ranges to the signed link', () => {
  it.each([1, 4])(
    'budget: 25 MB, links living 1.5 s, connections cut every 4 MB (%i connection(s))',
    async (connections) => {
      const j = job(25 * MB)
      fx.hub.xet.configure({
        linkLifeMs: 1500,
        expiresInLink: true,
        cutEvery: 4 * MB,
        throttleBps: (10 * MB) / connections
      })
      const since = fx.hub.xet.requests.length
      const id = await start(j, { connections })
      const e = await waitForState(j.workspace, id, ['completed', 'error', 'paused'])
      expect(e.error).toBeNull()
      expect(e.status).toBe('completed')
      expect(sha(j.path)).toBe(j.f.sha256)
      const resolves = resolvesOf(j.url)
      expect(resolves.length).toBeLessThanOrEqual(10)
      expect(resolves.every((q) => q.range === undefined)).toBe(true)
      expect(resolves.every((q) => q.authorization === 'Bearer hf_token')).toBe(true)
      expect(fx.hub.xet.bytesServed(j.f)).toBeLessThanOrEqual(1.1 * j.f.size)
      const atCdn = fx.hub.xet.requests.slice(since)
      expect(atCdn.some((q) => q.authorization !== undefined)).toBe(false)
      expect(atCdn.filter((q) => q.refused && q.refused !== 'Request has expired')).toEqual([])
    }
  )

  it('a link that does not say when it expires is replaced when the CDN refuses it', async () => {
    const j = job(8 * MB)
    fx.hub.xet.configure({
      linkLifeMs: 300,
      expiresInLink: false,
      cutEvery: 2 * MB,
      throttleBps: 4 * MB
    })
    const since = fx.hub.xet.requests.length
    const id = await start(j)
    const e = await waitForState(j.workspace, id, ['completed', 'error', 'paused'])
    expect(e.status).toBe('completed')
    expect(sha(j.path)).toBe(j.f.sha256)
    const expired = fx.hub.xet.requests.slice(since).filter((q) => q.status === 403)
    expect(expired.length).toBeGreaterThan(0)
    expect(resolvesOf(j.url).length).toBe(1 + expired.length)
  })
})

describe('helper: a pause longer than the link lives', () => {
  it('the resume asks for a new link first; no request meets an expired one', async () => {
    const j = job(6 * MB)
    fx.hub.xet.configure({
      linkLifeMs: 300,
      expiresInLink: false,
      cutEvery: undefined,
      throttleBps: 2 * MB
    })
    const since = fx.hub.xet.requests.length
    const id = await start(j)
    await waitFor(() => entryOf(j.workspace, id)?.downloaded ?? 0, '1 MB on disk', {
      until: (d) => d >= MB
    })
    const resolvedAt = Date.now()
    expect(await runHelper('pause', { workspace: j.workspace, id })).toEqual({ ok: true })
    expect(entryOf(j.workspace, id)?.status).toBe('paused')
    // The link lived 300 ms: well gone by now.
    await waitFor(() => Date.now() - resolvedAt > 1400, 'the first link to expire')
    fx.hub.xet.configure({ throttleBps: undefined })
    const a = await runHelper('resume', {
      workspace: j.workspace,
      models_dir: j.modelsDir,
      id,
      tokens: { hf: 'hf_token' },
      token_hosts: { hf: [new URL(fx.hub.hfUrl).host] },
      ...FAST
    })
    expect(a.ok, String(a.error)).toBe(true)
    const e = await waitForState(j.workspace, id, ['completed', 'error', 'paused'])
    expect(e.status).toBe('completed')
    expect(sha(j.path)).toBe(j.f.sha256)
    expect(resolvesOf(j.url).length).toBe(2)
    expect(fx.hub.xet.requests.slice(since).filter((q) => q.status >= 400)).toEqual([])
  })
})

describe('helper: start without a file name', () => {
  it('the name comes from the Hub link, the byte from the signed link, no Range on the resolve', async () => {
    fx.hub.xet.configure({ linkLifeMs: 3_600_000, cutEvery: undefined, throttleBps: undefined })
    const j = job(MB)
    const id = await start(j, { filename: undefined })
    const e = await waitForState(j.workspace, id, ['completed', 'error', 'paused'])
    expect(e.status).toBe('completed')
    expect(sha(j.path)).toBe(j.f.sha256)
    expect(resolvesOf(j.url).every((q) => q.range === undefined)).toBe(true)
  })
})

describe('helper: rate limits as the Hub sends them', () => {
  beforeEach(() =>
    fx.hub.xet.configure({ linkLifeMs: 3_600_000, cutEvery: undefined, throttleBps: undefined })
  )

  it.each(['ratelimit', 'retry-after'] as const)(
    'a 429 with %s waits what it says, shows it on the entry, then goes on',
    async (header) => {
      const j = job(2 * MB)
      fx.hub.limitResolves({ times: 1, seconds: 1, header })
      const id = await start(j)
      const host = new URL(fx.hub.hfUrl).host
      await waitFor(() => entryOf(j.workspace, id)?.notice, 'the rate-limit notice on the entry', {
        until: (v) => v === `rate-limited by ${host}, going on in 1 s`
      })
      const e = await waitForState(j.workspace, id, ['completed', 'error', 'paused'])
      expect(e.status).toBe('completed')
      expect(e.notice ?? null).toBeNull()
      expect(resolvesOf(j.url).map((q) => q.status)).toEqual([429, 302])
    }
  )

  it('a wait past the cap pauses the download with a message instead of sleeping', async () => {
    const j = job(MB)
    fx.hub.limitResolves({ times: 1, seconds: 86_400, header: 'retry-after' })
    const id = await start(j)
    const e = await waitForState(j.workspace, id, ['completed', 'error', 'paused'], 5000)
    expect(e.status).toBe('paused')
    expect(e.error).toMatch(/asks to wait 24 h/)
    expect(resolvesOf(j.url).map((q) => q.status)).toEqual([429])
  })
})
