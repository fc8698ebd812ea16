// The download conformance table: scenarios every engine must pass (the
// TypeScript engine locally, the pod helper locally and over SSH), run against
// the real loopback model server (test/harness/modelServer.ts).
//
// An engine plugs in through a ConformanceDriver:
//
//   run(req) starts ONE download described by a DriverRequest and resolves when
//   it has ended (completed / error / paused / cancelled), or at once when the
//   engine refused it. It must not throw for a refused or failed download:
//   it reports `state: 'error'` with the engine's error `code` (docs/formats.md
//   codes: auth, html, no-space, checksum, exists, unsafe-path, …) and message.
//   The driver chooses fast retry / stall settings so faults resolve in seconds
//   (e.g. 50 ms backoff base, 3 s stall timeout).
//
// Engines must write the workspace's status file (docs/formats.md): scenarios
// check the entry under the returned `path`.
//
// Use: `defineConformance(() => makeMyDriver())` inside a vitest test file; it
// registers one describe() with one it() per scenario, a model server for the
// file and a fresh models folder + workspace for every scenario.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contentOf, startModelServer, type ModelServer } from '../harness/modelServer'
import { startRawAnswerServer } from '../harness/rawAnswerServer'
import { waitFor } from '../support/wait'

export interface DriverRequest {
  url: string
  /** Absolute models folder (ComfyUI's models/). */
  modelsDir: string
  /** Absolute workspace: the status file lives here. */
  workspace: string
  /** Sub-folder of modelsDir, e.g. 'checkpoints'. */
  folder: string
  /** Omitted → the engine takes Content-Disposition / the URL's last segment. */
  filename?: string
  sha256?: string
  connections?: number
  overwrite?: boolean
  tokens?: { hf?: string; civitai?: string }
  /** Extra `host` / `host:port` entries treated as Hugging Face / Civitai hosts. */
  tokenHosts?: { hf?: string[]; civitai?: string[] }
}

export interface DriverResult {
  state: 'completed' | 'error' | 'paused' | 'cancelled'
  outcome?: 'started' | 'already-present' | 'already-active' | 'linked'
  /** Error code (docs/formats.md) when state is 'error'. */
  code?: string
  error?: string
  /** The absolute final path the engine chose. */
  path?: string
}

export interface ConformanceDriver {
  name: string
  /** Runs one download to its end (see the header). */
  run(req: DriverRequest): Promise<DriverResult>
  /** Starts one download and returns at once with its id and final path. */
  start(req: DriverRequest): Promise<{ id: string; path: string }>
  /** Pauses it and returns once it is settled; the process that ran it goes
   *  away (a local target is closed), so a resume must find the link on disk. */
  pause(req: DriverRequest, id: string): Promise<void>
  /** Resumes it (with a fresh link when `url` is given) and waits for its end. */
  resume(req: DriverRequest, id: string, url?: string): Promise<DriverResult>
  /** Cancels a started download and returns once it is settled (the process
   *  that ran it goes away, as after pause). */
  cancel(req: DriverRequest, id: string): Promise<void>
  close?(): Promise<void>
}

export interface ScenarioContext {
  srv: ModelServer
  driver: ConformanceDriver
  modelsDir: string
  workspace: string
  /** A request for `url` into modelsDir/checkpoints, with overrides. */
  req(url: string, over?: Partial<DriverRequest>): DriverRequest
}

/** What a scenario checks. `engine`: how the download logic behaves (retries,
 *  validators, names, refusals): the same on every transport, so it runs once
 *  per engine, locally. `transport`: that a request, its tokens, its controls
 *  and its answers survive the way a pod is reached (a command's argv and
 *  stdin, pause/resume round trips, a fresh link): run on every transport too. */
export type ScenarioKind = 'engine' | 'transport'

export interface Scenario {
  name: string
  kind: ScenarioKind
  run(ctx: ScenarioContext): Promise<void>
}

const MiB = 1 << 20
let counter = 0
/** A unique path per scenario so server logs never mix. */
const unique = (name: string): string => `/c${++counter}-${Date.now().toString(36)}/${name}`

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const fileSha = (p: string): string => sha256(readFileSync(p))

function statusEntry(workspace: string, path: string): Record<string, unknown> | undefined {
  const file = join(workspace, '.download_status.json')
  if (!existsSync(file)) return undefined
  const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>
  return all[path]
}

/** Every file under dir (recursive), relative paths. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
}

function expectCompleted(r: DriverResult, want: string): string {
  expect(r, JSON.stringify(r)).toMatchObject({ state: 'completed' })
  const path = r.path!
  expect(fileSha(path)).toBe(want)
  expect(existsSync(path + '.part')).toBe(false)
  expect(existsSync(path + '.part.json')).toBe(false)
  return path
}

function expectNothingInstalled(ctx: ScenarioContext, folder = 'checkpoints'): void {
  expect(filesUnder(join(ctx.modelsDir, folder))).toEqual([])
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits until the engine's sidecar claims `bytes` on disk (the server holds the rest back). */
async function sidecarHolds(path: string, bytes: number): Promise<void> {
  for (;;) {
    try {
      const sc = JSON.parse(readFileSync(path + '.part.json', 'utf8')) as {
        segments: { done: number }[]
      }
      if (sc.segments.reduce((n, x) => n + x.done, 0) >= bytes) return
    } catch {
      // not written yet, or being replaced
    }
    await sleep(20)
  }
}

/** A presigned link's query: the server answers 403 unless the signature is exact. */
const signedQuery = (sig: string): string =>
  `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261202&X-Amz-Signature=${sig}`

/** The status file, the sidecar gone, and no trace of `secret` in anything but a sidecar. */
function expectNoSecretStored(ctx: ScenarioContext, secret: string): void {
  const statusText = readFileSync(join(ctx.workspace, '.download_status.json'), 'utf8')
  expect(statusText).not.toContain(secret)
  for (const f of filesUnder(ctx.workspace).filter((p) => !p.endsWith('.part.json')))
    expect(readFileSync(join(ctx.workspace, f), 'utf8'), f).not.toContain(secret)
}

const body100 = 'x'.repeat(100)
/** Heads a well-behaved server never sends, and what each engine must say. */
const STRICT_ANSWERS: { answer: string; error: RegExp }[] = [
  {
    answer: `HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Length: 200\r\n\r\n${body100}`,
    error: /malformed answer \(Content-Length headers that disagree\)/
  },
  {
    answer: `HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n${body100}`,
    error: /malformed answer \(a Content-Length that is not a size\)/
  },
  {
    answer: `HTTP/1.1 200 OK\r\nETag: "v1"\nX-Injected: 1\r\nContent-Length: 100\r\n\r\n${body100}`,
    error: /malformed answer \(a header carries a bare CR or LF\)/
  },
  {
    answer: `HTTP/1.1 200 OK\r\nETag: "v1"\rX-Injected: 1\r\nContent-Length: 100\r\n\r\n${body100}`,
    error: /malformed answer \(a header carries a bare CR or LF\)/
  },
  {
    answer: 'HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n',
    error: /redirected to an unsupported address/
  }
]

export const SCENARIOS: Scenario[] = [
  {
    name: 'presigned link: fetched with its exact signature, stored without it; pause → resume completes',
    kind: 'transport',
    async run(ctx) {
      const sig = 'f00dcafe%2Bsig'
      const f = ctx.srv.addFile(unique('signed.safetensors'), {
        size: 4 * MiB,
        seed: 'sig',
        requireQuery: { 'X-Amz-Signature': 'f00dcafe+sig' },
        stallAfterBytes: 1 * MiB
      })
      const req = ctx.req(`${f.url}?${signedQuery(sig)}`, { filename: 'signed.safetensors' })
      const { id, path } = await ctx.driver.start(req)
      // The server holds the body at 1 MiB until the job is paused: no race with the clock.
      await sidecarHolds(path, 1 * MiB)
      await ctx.driver.pause(req, id)
      expect(statusEntry(ctx.workspace, path)).toMatchObject({ status: 'paused' })
      const sidecar = path + '.part.json'
      expect(statSync(sidecar).mode & 0o777).toBe(0o600)
      ctx.srv.setFaults(f.path, { stallAfterBytes: undefined })
      const r = await ctx.driver.resume(req, id)
      expectCompleted(r, f.sha256)
      const e = statusEntry(ctx.workspace, path)
      expect(e).toMatchObject({ status: 'completed' })
      expect(String(e?.url)).toBe(`${f.url}?X-Amz-Algorithm=AWS4-HMAC-SHA256`)
      expectNoSecretStored(ctx, 'f00dcafe')
      const gets = ctx.srv.requestsFor(f.path).filter((q) => q.method === 'GET')
      expect(gets.every((q) => q.status !== 403)).toBe(true)
      expect(gets.some((q) => q.headers.range)).toBe(true) // resumed, not restarted
      expect(ctx.srv.bytesServed(f.path)).toBeLessThan(f.size * 1.05)
    }
  },
  {
    name: 'cancel mid-download: the transfer stops, .part and sidecar removed, nothing installed',
    kind: 'transport',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('cancel.safetensors'), {
        size: 4 * MiB,
        seed: 'cancel',
        holdAt: 1 * MiB
      })
      const req = ctx.req(f.url, { filename: 'cancel.safetensors' })
      const { id, path } = await ctx.driver.start(req)
      // The server holds the body at 1 MiB: the cancel lands mid-download.
      await sidecarHolds(path, 1 * MiB)
      await ctx.driver.cancel(req, id)
      await waitFor(() => ctx.srv.openResponses(f.path) === 0, 'the request closed')
      await waitFor(() => filesUnder(ctx.modelsDir).length === 0, 'the .part and sidecar gone')
      expectNothingInstalled(ctx)
      const e = statusEntry(ctx.workspace, path)
      if (e) expect(e).toMatchObject({ status: 'cancelled' })
      expect(ctx.srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size)
    }
  },
  {
    name: 'link expires halfway: .part kept, error names the fix; a fresh link to the same name finishes it',
    kind: 'transport',
    async run(ctx) {
      const size = 8 * MiB
      const f = ctx.srv.addFile(unique('expiring.safetensors'), {
        size,
        seed: 'exp',
        requireQuery: { 'X-Amz-Signature': 'expiredsig0ld' },
        expireAfterBytes: size / 2
      })
      const first = await ctx.driver.run(
        ctx.req(`${f.url}?${signedQuery('expiredsig0ld')}`, { filename: 'expiring.safetensors' })
      )
      expect(first, JSON.stringify(first)).toMatchObject({ state: 'error', code: 'auth' })
      expect(first.error).toMatch(/paste a fresh link to continue from \d/)
      const path = first.path!
      expect(existsSync(path + '.part')).toBe(true)
      expect(statusEntry(ctx.workspace, path)).toMatchObject({ status: 'error', resumable: true })
      expect(existsSync(path)).toBe(false)
      // A fresh link (new signature) to the same file, same folder and name.
      ctx.srv.setFaults(f.path, {
        requireQuery: { 'X-Amz-Signature': 'freshsig0new' },
        expireAfterBytes: undefined
      })
      const second = await ctx.driver.run(
        ctx.req(`${f.url}?${signedQuery('freshsig0new')}`, { filename: 'expiring.safetensors' })
      )
      expectCompleted(second, f.sha256)
      expect(ctx.srv.bytesServed(f.path)).toBeLessThanOrEqual(size * 1.05)
      expectNoSecretStored(ctx, 'expiredsig0ld')
      expectNoSecretStored(ctx, 'freshsig0new')
    }
  },
  {
    name: 'a token= in the link is requested where it was pasted: kept in the query, no header made of it, stored without it',
    kind: 'engine',
    async run(ctx) {
      // A signed CDN link (Bunny, Akamai) signs over its token= value; Civitai reads it there.
      const f = ctx.srv.addFile(unique('tokened.safetensors'), {
        size: 1 * MiB,
        seed: 'tok',
        requireQuery: { token: 'pasted0tok', expires: '1767225600' }
      })
      const r = await ctx.driver.run(
        ctx.req(`${f.url}?token=pasted0tok&expires=1767225600`, {
          filename: 'tokened.safetensors'
        })
      )
      const path = expectCompleted(r, f.sha256)
      const gets = ctx.srv.requestsFor(f.path).filter((q) => q.method === 'GET')
      expect(gets.length).toBeGreaterThan(0)
      for (const q of gets) {
        expect(q.status).not.toBe(403)
        expect(q.headers.authorization).toBeUndefined()
      }
      expect(statusEntry(ctx.workspace, path)).toMatchObject({
        status: 'completed',
        url: `${f.url}?expires=1767225600`
      })
      expectNoSecretStored(ctx, 'pasted0tok')
    }
  },
  {
    name: 'resume with a fresh link after a 403: continues the .part',
    kind: 'transport',
    async run(ctx) {
      const size = 4 * MiB
      const f = ctx.srv.addFile(unique('relink.safetensors'), {
        size,
        seed: 'rel',
        requireQuery: { sig: 'one' },
        stallAfterBytes: 1 * MiB
      })
      const req = ctx.req(`${f.url}?sig=one`, { filename: 'relink.safetensors' })
      const { id, path } = await ctx.driver.start(req)
      await sidecarHolds(path, 1 * MiB)
      await ctx.driver.pause(req, id)
      // The link expired meanwhile: resuming with it fails and keeps the .part.
      ctx.srv.setFaults(f.path, { stallAfterBytes: undefined, requireQuery: { sig: 'two' } })
      const failed = await ctx.driver.resume(req, id)
      expect(failed, JSON.stringify(failed)).toMatchObject({ state: 'error', code: 'auth' })
      expect(existsSync(path + '.part')).toBe(true)
      const r = await ctx.driver.resume(req, id, `${f.url}?sig=two`)
      expectCompleted(r, f.sha256)
      expect(ctx.srv.bytesServed(f.path)).toBeLessThan(size * 1.05)
      expect(String(statusEntry(ctx.workspace, path)?.url)).toBe(f.url)
    }
  },
  {
    name: 'a status entry whose path leaves models/ through a symlink is refused on resume, nothing written',
    kind: 'engine',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('escape.safetensors'), {
        size: 2 * MiB,
        seed: 'esc',
        stallAfterBytes: 256 * 1024
      })
      const req = ctx.req(f.url, { filename: 'escape.safetensors' })
      const { id, path } = await ctx.driver.start(req)
      await sidecarHolds(path, 256 * 1024)
      await ctx.driver.pause(req, id)
      ctx.srv.setFaults(f.path, { stallAfterBytes: undefined })
      // Someone swaps the folder for a symlink to a place outside models/.
      const outside = join(ctx.workspace, 'outside')
      mkdirSync(outside)
      const folder = dirname(path)
      renameSync(folder, folder + '.moved')
      symlinkSync(outside, folder)
      const r = await ctx.driver.resume(req, id)
      // Refused either way: the helper marks the entry unsafe; the TypeScript
      // target no longer lists an entry whose folder leads out of models/.
      expect(r, JSON.stringify(r)).toMatchObject({ state: 'error' })
      expect(['unsafe-path', 'not-found']).toContain((r as { code?: string }).code)
      expect(readdirSync(outside)).toEqual([])
      expect(statusEntry(ctx.workspace, path)?.status).not.toMatch(/downloading|completed/)
    }
  },
  {
    name: 'a stored entry outside models/ and every extra_model_paths.yaml folder is refused on resume',
    kind: 'engine',
    async run(ctx) {
      // The target's ComfyUI has a yaml whose default loras folder is shared/loras.
      const base = dirname(ctx.modelsDir)
      mkdirSync(join(base, 'shared', 'loras'), { recursive: true })
      writeFileSync(
        join(base, 'extra_model_paths.yaml'),
        'shared:\n  base_path: shared\n  is_default: true\n  loras: loras\n'
      )
      const f = ctx.srv.addFile(unique('moved.safetensors'), {
        size: 2 * MiB,
        seed: 'mv',
        stallAfterBytes: 256 * 1024
      })
      const req = ctx.req(f.url, { filename: 'moved.safetensors' })
      const { id, path } = await ctx.driver.start(req)
      await sidecarHolds(path, 256 * 1024)
      await ctx.driver.pause(req, id)
      ctx.srv.setFaults(f.path, { stallAfterBytes: undefined })
      // The entry is edited to a plain folder beside the configured one (a name
      // that merely starts like it): in no configured root.
      const elsewhere = join(base, 'shared', 'loras2')
      mkdirSync(elsewhere)
      const moved = join(elsewhere, 'moved.safetensors')
      renameSync(path + '.part', moved + '.part')
      renameSync(path + '.part.json', moved + '.part.json')
      const statusFile = join(ctx.workspace, '.download_status.json')
      const all = JSON.parse(readFileSync(statusFile, 'utf8')) as Record<string, unknown>
      all[moved] = all[path]
      delete all[path]
      writeFileSync(statusFile, JSON.stringify(all))
      const partBefore = fileSha(moved + '.part')
      const r = await ctx.driver.resume(req, id)
      // The helper refuses the path; a local target does not even list an entry
      // outside its roots. Either way nothing is fetched or written there.
      expect(r.state, JSON.stringify(r)).toBe('error')
      expect(['unsafe-path', 'not-found'], JSON.stringify(r)).toContain(r.code)
      expect(readdirSync(elsewhere).sort()).toEqual([
        'moved.safetensors.part',
        'moved.safetensors.part.json'
      ])
      expect(fileSha(moved + '.part')).toBe(partBefore)
    }
  },
  {
    name: 'a symlink planted at the paused .part is refused on resume, its target untouched',
    kind: 'engine',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('planted.safetensors'), {
        size: 2 * MiB,
        seed: 'pl',
        stallAfterBytes: 256 * 1024
      })
      const req = ctx.req(f.url, { filename: 'planted.safetensors' })
      const { id, path } = await ctx.driver.start(req)
      await sidecarHolds(path, 256 * 1024)
      await ctx.driver.pause(req, id)
      ctx.srv.setFaults(f.path, { stallAfterBytes: undefined })
      // A same-size file elsewhere, linked in at the .part's name: a resume that
      // followed the link would write the model's bytes into it.
      const victim = join(ctx.workspace, 'victim.bin')
      renameSync(path + '.part', victim)
      const before = fileSha(victim)
      symlinkSync(victim, path + '.part')
      const r = await ctx.driver.resume(req, id)
      expect(r, JSON.stringify(r)).toMatchObject({ state: 'error', code: 'unsafe-path' })
      expect(fileSha(victim)).toBe(before)
      expect(existsSync(path)).toBe(false)
    }
  },
  {
    name: 'strict HTTP: disagreeing or negative Content-Length, a bare CR/LF in a header, a redirect to file: are refused with one clear error',
    kind: 'engine',
    async run(ctx) {
      for (const [i, c] of STRICT_ANSWERS.entries()) {
        const srv = await startRawAnswerServer([c.answer])
        try {
          const r = await ctx.driver.run(ctx.req(srv.url, { filename: `strict${i}.safetensors` }))
          expect(r, JSON.stringify(r)).toMatchObject({ state: 'error', code: 'http' })
          expect(r.error).toMatch(c.error)
          // A smuggled header never comes back in a request of PodPull's.
          expect(srv.heads.some((h) => /^x-injected/im.test(h))).toBe(false)
          expectNothingInstalled(ctx)
        } finally {
          await srv.close()
        }
      }
    }
  },
  {
    name: 'a reason phrase carrying terminal escapes is stored without them',
    kind: 'engine',
    async run(ctx) {
      const srv = await startRawAnswerServer([
        'HTTP/1.1 404 Not\u001b]52;c;cm0gLXJmIH4=\u0007 Found\u009b\r\nContent-Length: 0\r\n\r\n'
      ])
      try {
        const r = await ctx.driver.run(ctx.req(srv.url, { filename: 'escapes.safetensors' }))
        expect(r, JSON.stringify(r)).toMatchObject({ state: 'error' })
        const stored = String(statusEntry(ctx.workspace, r.path!)?.error)
        // The engine names the status in its own words; the helper quotes the reason too.
        expect(stored).toMatch(/404/)
        for (const c of ['\u001b', '\u0007', '\u009b']) expect(stored).not.toContain(c)
      } finally {
        await srv.close()
      }
    }
  },
  {
    name: 'plain download: right bytes, sha256 checked, status entry completed',
    kind: 'transport',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('plain.safetensors'), { size: 3 * MiB + 17, seed: 'p' })
      const r = await ctx.driver.run(ctx.req(f.url + '?token=leaky', { sha256: f.sha256 }))
      const path = expectCompleted(r, f.sha256)
      expect(path).toBe(join(ctx.modelsDir, 'checkpoints', 'plain.safetensors'))
      const e = statusEntry(ctx.workspace, path)
      expect(e).toMatchObject({ status: 'completed', progress: 100, file_size: f.size })
      expect(String(e?.url)).not.toContain('leaky')
    }
  },
  {
    name: 'connection dropped mid-body 3 times: resumes with Range and completes',
    kind: 'engine',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('drop.safetensors'), {
        size: 4 * MiB,
        seed: 'd',
        dropAfterBytes: 1 * MiB,
        dropTimes: 3
      })
      const r = await ctx.driver.run(ctx.req(f.url, { filename: 'drop.safetensors' }))
      expectCompleted(r, f.sha256)
      const ranged = ctx.srv.requestsFor(f.path).filter((q) => q.headers.range)
      expect(ranged.length).toBeGreaterThanOrEqual(3)
      expect(ctx.srv.bytesServed(f.path)).toBeLessThan(f.size * 1.5)
    }
  },
  {
    name: 'server ignores Range on resume: clean restart, never spliced',
    kind: 'engine',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('norange.safetensors'), {
        size: 4 * MiB,
        seed: 'n',
        holdAt: MiB, // the first answer waits here, before its drop at 1 MiB + 5
        dropAfterBytes: 1 * MiB + 5,
        dropTimes: 1
      })
      const running = ctx.driver.run(ctx.req(f.url, { filename: 'norange.safetensors' }))
      // The first answer advertised ranges; from now on the server ignores them.
      await waitFor(() => ctx.srv.bytesServed(f.path) >= MiB, 'the first MiB')
      ctx.srv.setFaults(f.path, { ignoreRange: true, holdAt: undefined })
      expectCompleted(await running, f.sha256)
      const log = ctx.srv.requestsFor(f.path)
      expect(log.some((q) => q.headers.range && q.status === 200)).toBe(true)
    }
  },
  {
    name: 'ETag changes between attempts: restarts on the new copy instead of splicing',
    kind: 'engine',
    async run(ctx) {
      const path = unique('etag.safetensors')
      const size = 4 * MiB
      const old = ctx.srv.addFile(path, {
        size,
        seed: 'old',
        holdAt: MiB / 2,
        dropAfterBytes: 1 * MiB,
        dropTimes: 1
      })
      const running = ctx.driver.run(ctx.req(old.url, { filename: 'etag.safetensors' }))
      await waitFor(() => ctx.srv.bytesServed(path) >= MiB / 2, 'the first half MiB')
      // The server's copy is replaced while the first response is in flight (in the
      // same tick as that response is let go on to its drop).
      ctx.srv.setFaults(path, { holdAt: undefined })
      const fresh = ctx.srv.addFile(path, { size, seed: 'new', etag: 'v2' })
      const r = await running
      expectCompleted(r, fresh.sha256)
      expect(fresh.sha256).not.toBe(old.sha256)
    }
  },
  {
    name: 'cross-host redirect: Authorization reaches the token host only',
    kind: 'transport',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('redir.safetensors'), {
        size: 2 * MiB,
        seed: 'r',
        requireToken: 'hf_conformance_secret',
        redirectToSecond: true
      })
      const host = new URL(ctx.srv.url).host
      const r = await ctx.driver.run(
        ctx.req(f.url, {
          filename: 'redir.safetensors',
          tokens: { hf: 'hf_conformance_secret' },
          tokenHosts: { hf: [host] }
        })
      )
      expectCompleted(r, f.sha256)
      const log = ctx.srv.requestsFor(f.path)
      const primary = log.filter((q) => q.host === 'primary')
      const second = log.filter((q) => q.host === 'second')
      expect(primary.length).toBeGreaterThan(0)
      expect(second.length).toBeGreaterThan(0)
      for (const q of primary) expect(q.headers.authorization).toBe('Bearer hf_conformance_secret')
      for (const q of second) expect(q.headers.authorization).toBeUndefined()
    }
  },
  {
    name: '401: auth error naming the token to set, nothing installed',
    kind: 'engine',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('gated.safetensors'), {
        size: 1 * MiB,
        requireToken: 'right'
      })
      const host = new URL(ctx.srv.url).host
      const r = await ctx.driver.run(
        ctx.req(f.url, { filename: 'gated.safetensors', tokenHosts: { hf: [host] } })
      )
      expect(r).toMatchObject({ state: 'error', code: 'auth' })
      expect(r.error).toMatch(/Hugging Face/)
      expect(r.error).toMatch(/HF_TOKEN/)
      expectNothingInstalled(ctx)
    }
  },
  {
    name: 'HTML login page instead of a model: html error naming the fix, nothing installed',
    kind: 'engine',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('civit.safetensors'), { size: 1 * MiB, htmlLogin: true })
      const host = new URL(ctx.srv.url).host
      const r = await ctx.driver.run(
        ctx.req(f.url, { filename: 'civit.safetensors', tokenHosts: { civitai: [host] } })
      )
      expect(r).toMatchObject({ state: 'error', code: 'html' })
      expect(r.error).toMatch(/CIVITAI_API_TOKEN/)
      expectNothingInstalled(ctx)
    }
  },
  {
    name: 'redirect to a login URL (reason=download-auth): html error',
    kind: 'engine',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('civit2.safetensors'), { size: 1 * MiB, authRedirect: true })
      const r = await ctx.driver.run(ctx.req(f.url, { filename: 'civit2.safetensors' }))
      expect(r).toMatchObject({ state: 'error', code: 'html' })
      expectNothingInstalled(ctx)
    }
  },
  {
    name: 'hostile Content-Disposition names stay inside the folder',
    kind: 'engine',
    async run(ctx) {
      const names = [
        ['attachment; filename="../../evil.safetensors"', 'evil.safetensors'],
        ['attachment; filename="/etc/evil2.safetensors"', 'evil2.safetensors'],
        ['attachment; filename="..\\\\..\\\\evil3.safetensors"', 'evil3.safetensors'],
        ['attachment; filename=".hidden.safetensors"', 'hidden.safetensors']
      ] as const
      for (const [cd, want] of names) {
        const f = ctx.srv.addFile(unique('cd.bin'), { size: 64 * 1024, contentDisposition: cd })
        const r = await ctx.driver.run(ctx.req(f.url))
        const path = expectCompleted(r, f.sha256)
        expect(path).toBe(join(ctx.modelsDir, 'checkpoints', want))
      }
      // Nothing landed anywhere but the chosen folder (the workspace holds state files).
      const stray = filesUnder(dirname(ctx.modelsDir)).filter(
        (p) => !p.startsWith('workspace/') && !p.startsWith('models/checkpoints/')
      )
      expect(stray).toEqual([])
    }
  },
  {
    name: 'a server name of 251, 253 or 255 bytes is shortened so its .part.json (and its temp) fits, extension kept',
    kind: 'engine',
    async run(ctx) {
      for (const bytes of [251, 253, 255]) {
        // Multi-byte characters too: a shortened name never splits one.
        const stem = 'é'.repeat(20) + 'n'.repeat(bytes - '.safetensors'.length - 40)
        const f = ctx.srv.addFile(unique(`long${bytes}.bin`), {
          size: 64 * 1024,
          contentDisposition: `attachment; filename*=UTF-8''${encodeURIComponent(stem)}.safetensors`
        })
        const r = await ctx.driver.run(ctx.req(f.url))
        const path = expectCompleted(r, f.sha256)
        const saved = path.split('/').pop()!
        expect(saved.endsWith('.safetensors'), saved).toBe(true)
        expect(saved.startsWith('éé')).toBe(true)
        expect(Buffer.byteLength(`${saved}.part.json.tmp-4194304-ffffffff`)).toBeLessThanOrEqual(
          255
        )
      }
    }
  },
  {
    name: 'shell metacharacters in the URL and the file name: saved or refused cleanly, nothing runs',
    kind: 'transport',
    async run(ctx) {
      const marker = join(tmpdir(), `podpull-pwned-${randomBytes(6).toString('hex')}`)
      const f = ctx.srv.addFile(unique('meta.safetensors'), { size: 64 * 1024 })
      const hostile = `$(touch ${marker})\`touch ${marker}\`'x;touch ${marker}`
      const url = `${f.url}?q=${encodeURIComponent(hostile)}`
      const name = "$(touch pwned)`id`';x.safetensors"
      const r = await ctx.driver.run(ctx.req(url, { filename: name }))
      if (r.state === 'completed') {
        expect(r.path).toBe(join(ctx.modelsDir, 'checkpoints', name))
        expectCompleted(r, f.sha256)
      } else {
        expect(r).toMatchObject({ state: 'error' })
        expect(['unsafe-path', 'bad-request']).toContain(r.code)
      }
      const newline = await ctx.driver.run(ctx.req(f.url, { filename: 'two\nlines.safetensors' }))
      if (newline.state === 'completed') expect(newline.path).not.toMatch(/\n/)
      else expect(['unsafe-path', 'bad-request']).toContain(newline.code)
      expect(existsSync(marker)).toBe(false)
    }
  },
  {
    name: 'not enough disk space: no-space error before the first byte, nothing left behind',
    kind: 'engine',
    async run(ctx) {
      // A petabyte: no test machine has that free, and the server generates bytes lazily.
      const f = ctx.srv.addFile(unique('huge.safetensors'), { size: 2 ** 50 })
      const r = await ctx.driver.run(ctx.req(f.url, { filename: 'huge.safetensors' }))
      expect(r).toMatchObject({ state: 'error', code: 'no-space' })
      expect(r.error).toMatch(/space/i)
      expectNothingInstalled(ctx)
    }
  },
  {
    name: 'sha256 mismatch: checksum error, the bad file removed',
    kind: 'engine',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('bad.safetensors'), { size: 1 * MiB })
      const r = await ctx.driver.run(
        ctx.req(f.url, { filename: 'bad.safetensors', sha256: 'ab'.repeat(32) })
      )
      expect(r).toMatchObject({ state: 'error', code: 'checksum' })
      expectNothingInstalled(ctx)
    }
  },
  {
    name: 'already present (same sha256): completed at once, nothing fetched',
    kind: 'engine',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('have.safetensors'), { size: 1 * MiB, seed: 'h' })
      const dir = join(ctx.modelsDir, 'checkpoints')
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'have.safetensors'), contentOf(f.size, 'h', 0, f.size))
      const r = await ctx.driver.run(
        ctx.req(f.url, { filename: 'have.safetensors', sha256: f.sha256 })
      )
      expect(r).toMatchObject({ state: 'completed', outcome: 'already-present' })
      expect(ctx.srv.bytesServed(f.path)).toBeLessThanOrEqual(1)
    }
  },
  {
    name: 'a different file under the final name: exists error, the file untouched',
    kind: 'engine',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('taken.safetensors'), { size: 1 * MiB })
      const dir = join(ctx.modelsDir, 'checkpoints')
      mkdirSync(dir, { recursive: true })
      const mine = randomBytes(4096)
      writeFileSync(join(dir, 'taken.safetensors'), mine)
      const r = await ctx.driver.run(
        ctx.req(f.url, { filename: 'taken.safetensors', sha256: f.sha256 })
      )
      expect(r).toMatchObject({ state: 'error', code: 'exists' })
      expect(fileSha(join(dir, 'taken.safetensors'))).toBe(sha256(mine))
    }
  },
  {
    name: '503 twice then success: retried with backoff',
    kind: 'engine',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('busy.safetensors'), {
        size: 1 * MiB,
        failStatus: 503,
        failTimes: 2
      })
      const r = await ctx.driver.run(ctx.req(f.url, { filename: 'busy.safetensors' }))
      expectCompleted(r, f.sha256)
    }
  },
  {
    name: 'several connections: segments at their own offsets, right bytes',
    kind: 'engine',
    async run(ctx) {
      const f = ctx.srv.addFile(unique('multi.safetensors'), { size: 20 * MiB + 3, seed: 'm' })
      const r = await ctx.driver.run(
        ctx.req(f.url, { filename: 'multi.safetensors', connections: 4, sha256: f.sha256 })
      )
      expectCompleted(r, f.sha256)
      const ranged = ctx.srv.requestsFor(f.path).filter((q) => q.headers.range)
      expect(ranged.length).toBeGreaterThanOrEqual(3)
      // An engine that splits after a first full GET closes it at its segment's end:
      // what the server had already pushed into loopback socket buffers (a few MiB)
      // counts as served. More than that would be bytes fetched twice.
      expect(ctx.srv.bytesServed(f.path)).toBeLessThan(f.size + 8 * MiB)
    }
  }
]

/** Registers the table for one engine (or one engine over one transport):
 *  every scenario, or only those of the given kinds. */
export function defineConformance(
  makeDriver: () => Promise<ConformanceDriver>,
  kinds: readonly ScenarioKind[] = ['engine', 'transport']
): void {
  let srv: ModelServer
  let driver: ConformanceDriver
  let root: string
  describe('download conformance', () => {
    beforeAll(async () => {
      srv = await startModelServer()
      driver = await makeDriver()
      root = mkdtempSync(join(tmpdir(), 'podpull-conf-'))
    })
    afterAll(async () => {
      await driver?.close?.()
      await srv?.close()
      if (root) rmSync(root, { recursive: true, force: true })
    })
    SCENARIOS.forEach((s, i) => {
      if (!kinds.includes(s.kind)) return
      it(s.name, async () => {
        const base = join(root, `s${i}`)
        const modelsDir = join(base, 'models')
        const workspace = join(base, 'workspace')
        mkdirSync(modelsDir, { recursive: true })
        mkdirSync(workspace, { recursive: true })
        await s.run({
          srv,
          driver,
          modelsDir,
          workspace,
          req: (url, over) => ({ url, modelsDir, workspace, folder: 'checkpoints', ...over })
        })
      })
    })
  })
}
