// Hugging Face as it serves large files today: `resolve/` answers 302 to a
// signed Xet bridge link on another host (127.0.0.2) that expires, refuses an
// Authorization header with 400, and is bound to the Range its resolve request
// carried. The engine resolves without Range, sends ranges only to the link,
// and resolves again only when the link is refused or has expired.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { hubAndCdn } from '../support/serverScratch'
import { type ServedFile } from '../harness/modelServer'
import { fileSha, startEngine } from '../support/engine'
import { waitFor } from '../support/wait'
import { redirectsToSignedLink } from '../../src/main/sources/endpoints'
import { WaitTooLong } from '../../src/main/engine/retryWait'

const MB = 1_000_000
const fx = hubAndCdn()
let dir: string
let n = 0

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fx.hub-links-'))
  return () => rmSync(dir, { recursive: true, force: true })
})

/** A file in a Xet-served repo, and the resolve URL a user's link becomes. */
function xetFile(size: number): { f: ServedFile; url: string; finalPath: string } {
  const id = ++n
  const f = fx.cdn.addFile(`/xet/${id}/model.safetensors`, { size, seed: `xet${id}` })
  fx.hub.addRepo({ id: `org/xet${id}`, xet: true, files: [{ path: 'model.safetensors', cdn: f }] })
  return {
    f,
    url: `${fx.hub.hfUrl}/org/xet${id}/resolve/main/model.safetensors`,
    finalPath: join(dir, 'model.safetensors')
  }
}

/** The Hub's token goes to the Hub's host only (as tokens.ts decides). */
const hubAuth = (u: URL): string | undefined =>
  u.host === new URL(fx.hub.hfUrl).host ? 'Bearer hf_token' : undefined

const resolvesOf = (url: string, since = 0) =>
  fx.hub.log.slice(since).filter((q) => q.path === new URL(url).pathname)

function run(url: string, finalPath: string, connections: number, maxWaitMs?: number) {
  return startEngine(
    { url } as ServedFile,
    finalPath,
    { connections, signedRedirect: true },
    { auth: hubAuth, retryBaseMs: 20, maxWaitMs }
  )
}

describe('resolve once, ranges to the signed link', () => {
  it.each([1, 4])(
    'budget: 25 MB, links living 1.5 s, connections cut every 4 MB (%i connection(s)): ≤ 10 resolves, ≤ 1.10× bytes',
    async (connections) => {
      const { f, url, finalPath } = xetFile(25 * MB)
      // Paced so the download outlives a link (25 MB at 10 MB/s in all).
      fx.hub.xet.configure({
        linkLifeMs: 1500,
        expiresInLink: true,
        cutEvery: 4 * MB,
        throttleBps: (10 * MB) / connections
      })
      const since = fx.hub.xet.requests.length
      const r = await run(url, finalPath, connections).result
      expect(r.outcome).toBe('completed')
      expect(fileSha(finalPath)).toBe(f.sha256)
      const resolves = resolvesOf(url)
      expect(resolves.length).toBeLessThanOrEqual(10)
      expect(resolves.every((q) => q.range === undefined && q.method === 'GET')).toBe(true)
      expect(resolves.every((q) => q.authorization === 'Bearer hf_token')).toBe(true)
      expect(fx.hub.xet.bytesServed(f)).toBeLessThanOrEqual(1.1 * f.size)
      const atCdn = fx.hub.xet.requests.slice(since)
      expect(atCdn.some((q) => q.authorization !== undefined)).toBe(false)
      // Only an expiry may refuse a request (one sent just as its link ran out).
      expect(atCdn.filter((q) => q.refused && q.refused !== 'Request has expired')).toEqual([])
    }
  )

  it('a link that does not say when it expires is replaced when the CDN refuses it', async () => {
    const { f, url, finalPath } = xetFile(8 * MB)
    // 2 s of transfer at least; the link lives at most 1.3 s; a cut every 2 MB
    // makes the engine ask the link again after it has expired.
    fx.hub.xet.configure({
      linkLifeMs: 300,
      expiresInLink: false,
      cutEvery: 2 * MB,
      throttleBps: 4 * MB
    })
    const since = fx.hub.xet.requests.length
    const r = await run(url, finalPath, 1).result
    expect(r.outcome).toBe('completed')
    expect(fileSha(finalPath)).toBe(f.sha256)
    const atCdn = fx.hub.xet.requests.slice(since)
    const expired = atCdn.filter((q) => q.status === 403)
    expect(expired.length).toBeGreaterThan(0)
    // One resolve to start, one per refusal: never one per request.
    expect(resolvesOf(url).length).toBe(1 + expired.length)
    expect(resolvesOf(url).every((q) => q.range === undefined)).toBe(true)
  })

  it('after a pause longer than the link lives, the resume asks for a new link first', async () => {
    const { f, url, finalPath } = xetFile(6 * MB)
    fx.hub.xet.configure({
      linkLifeMs: 300,
      expiresInLink: false,
      cutEvery: undefined,
      throttleBps: 2 * MB
    })
    const since = fx.hub.xet.requests.length
    const first = run(url, finalPath, 1)
    await waitFor(() => (first.progress.at(-1)?.downloaded ?? 0) >= MB, '1 MB on disk')
    const resolvedAt = Date.now()
    first.ctl.abort('pause')
    expect((await first.result).outcome).toBe('paused')
    // The first link lives at most 1.3 s (whole seconds, rounded up).
    await waitFor(() => Date.now() - resolvedAt > 1400, 'the first link to expire')
    fx.hub.xet.configure({ throttleBps: undefined })
    const second = await run(url, finalPath, 1).result
    expect(second.outcome).toBe('completed')
    expect(fileSha(finalPath)).toBe(f.sha256)
    expect(resolvesOf(url).length).toBe(2)
    expect(fx.hub.xet.requests.slice(since).filter((q) => q.status >= 400)).toEqual([])
  })

  it('fx.hub resolve links are recognised; other links are not', () => {
    const env = {
      HF_ENDPOINT: 'http://127.0.0.1:9',
      PODPULL_CIVITAI_ENDPOINT: 'http://127.0.0.1:8'
    }
    const yes = [
      'https://huggingface.co/org/m/resolve/main/a.safetensors',
      'http://127.0.0.1:9/org/m/resolve/main/sub/a.gguf',
      'https://civitai.com/api/download/models/12?type=Model',
      'http://127.0.0.1:8/api/download/models/12'
    ]
    const no = [
      'https://huggingface.co/org/m/blob/main/a.safetensors',
      'https://cas-bridge.xethub.hf.co/xet/abc?Expires=1',
      'https://example.com/org/m/resolve/main/a.safetensors',
      'https://civitai.com/models/12'
    ]
    expect(yes.filter((u) => !redirectsToSignedLink(u, env))).toEqual([])
    expect(no.filter((u) => redirectsToSignedLink(u, env))).toEqual([])
  })
})

describe('rate limits as the Hub sends them', () => {
  beforeEach(() =>
    fx.hub.xet.configure({ linkLifeMs: 3_600_000, cutEvery: undefined, throttleBps: undefined })
  )

  it.each(['ratelimit', 'retry-after'] as const)(
    'a 429 with %s waits what it says, shows it, then goes on',
    async (header) => {
      const { f, url, finalPath } = xetFile(2 * MB)
      fx.hub.limitResolves({ times: 1, seconds: 1, header })
      const r = run(url, finalPath, 1)
      expect((await r.result).outcome).toBe('completed')
      expect(fileSha(finalPath)).toBe(f.sha256)
      const host = new URL(fx.hub.hfUrl).host
      const notices = r.progress.map((p) => p.notice).filter(Boolean)
      expect(notices).toContain(`rate-limited by ${host}, going on in 1 s`)
      expect(r.progress.at(-1)!.notice).toBeNull()
      expect(resolvesOf(url).map((q) => q.status)).toEqual([429, 302])
    }
  )

  it.each([
    ['a day of Retry-After', 'retry-after', 86_400, undefined, /asks to wait 24 h/],
    ['past what a timer holds', 'retry-after', 2 ** 31, undefined, /asks to wait \d+ h/],
    ['a RateLimit wait past a lower cap', 'ratelimit', 2, 1000, /asks to wait 2 s/]
  ] as const)(
    '%s: paused with a message, not slept through',
    async (_w, header, secs, cap, msg) => {
      const { url, finalPath } = xetFile(MB)
      fx.hub.limitResolves({ times: 1, seconds: secs, header })
      const err = await run(url, finalPath, 1, cap).result.then(
        () => undefined,
        (e: unknown) => e
      )
      expect(err).toBeInstanceOf(WaitTooLong)
      expect((err as WaitTooLong).message).toMatch(msg)
      expect((err as WaitTooLong).resumable).toBe(true)
      // Nothing was slept: the one refused resolve is all that happened.
      expect(resolvesOf(url).map((q) => q.status)).toEqual([429])
    }
  )
})
