// Downloads over HTTPS, as every real model link is: the built CLI against the
// loopback model server serving TLS with a certificate made for this run and
// trusted through NODE_EXTRA_CA_CERTS for the CLI's process only. The raw
// reader (rawHttp.ts over a TLS socket) must carry the bodies, with resume,
// several connections, redirects and the undici fallback behaving as on http:.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startModelServer, type ModelServer, type ServedFile } from '../harness/modelServer'
import { makeSelfSignedCert, type SelfSignedCert } from '../harness/selfSignedCert'
import { assertBuilt, freshComfy, runCli } from '../support/cli'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { FAST, HELPER_PATH, readStatusFile } from '../conformance/helperDriver'
import { PYTHON_FLAGS } from '../../src/main/ssh/helperClient'
import { childWithErrorListeners } from '../support/listeners'

const MiB = 1024 * 1024
let srv: ModelServer
let cert: SelfSignedCert
const bases: string[] = []
let n = 0

beforeAll(async () => {
  assertBuilt()
  cert = makeSelfSignedCert()
  srv = await startModelServer({ tls: cert })
})
afterAll(async () => {
  await srv?.close()
  cert?.remove()
  for (const b of bases) rmSync(b, { recursive: true, force: true })
})

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex')

/** Requests the raw reader sent (it alone sends `Connection: close`). */
const rawRequests = (f: ServedFile, host = 'primary') =>
  srv.requestsFor(f.path).filter((r) => r.host === host && r.headers.connection === 'close')

async function download(
  f: ServedFile,
  args: string[] = [],
  env: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: cert.certPath }
) {
  const c = freshComfy(['checkpoints'])
  bases.push(c.base)
  const home = { PODPULL_HOME: c.home }
  const add = await runCli(['targets', 'add-local', 'tls', '--comfyui', c.comfy], home)
  expect(add.code, add.stderr).toBe(0)
  const name = `model-${++n}.safetensors`
  const r = await runCli(
    ['download', f.url, '--target', 'tls', '--folder', 'checkpoints', '--filename', name, ...args],
    { ...home, ...env }
  )
  return { ...r, path: join(c.models, 'checkpoints', name) }
}

describe('HTTPS downloads (raw TLS reader)', () => {
  it('one connection: the body comes over the raw TLS reader, sha256 checked', async () => {
    const f = srv.addFile('/tls/one.bin', { size: 24 * MiB, seed: 'one' })
    const r = await download(f, ['--connections', '1', '--sha256', f.sha256])
    expect(r.code, r.stderr).toBe(0)
    expect(sha(r.path)).toBe(f.sha256)
    const raw = rawRequests(f)
    expect(raw).toHaveLength(1)
    // The first answer is the download itself: asked from byte 0 to the end.
    expect(raw[0]!.headers.range).toBe('bytes=0-')
    expect(srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size + 1)
  })

  it('8 connections with dropped TLS connections: resumes each segment, right bytes', async () => {
    const f = srv.addFile('/tls/eight.bin', {
      size: 40 * MiB,
      seed: 'eight',
      dropAfterBytes: 3 * MiB,
      dropTimes: 4
    })
    const r = await download(f, ['--connections', '8', '--sha256', f.sha256])
    expect(r.code, r.stderr).toBe(0)
    expect(sha(r.path)).toBe(f.sha256)
    const raw = rawRequests(f)
    expect(raw.length).toBeGreaterThanOrEqual(8 + 4)
    // Bytes read before a drop were kept: nothing is fetched twice beyond a batch or so per drop.
    expect(srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size * 1.02)
  })

  it('reads the body raw from an https redirect target, without the token', async () => {
    const f = srv.addFile('/tls/redirect.bin', {
      size: 6 * MiB,
      seed: 'redir',
      redirectToSecond: true
    })
    const r = await download(f, ['--sha256', f.sha256])
    expect(r.code, r.stderr).toBe(0)
    expect(sha(r.path)).toBe(f.sha256)
    expect(rawRequests(f, 'second').length).toBeGreaterThanOrEqual(1)
  })

  it('falls back to undici for a chunked HTTPS body', async () => {
    const f = srv.addFile('/tls/chunked.bin', { size: 5 * MiB, seed: 'ch', noContentLength: true })
    const r = await download(f, ['--sha256', f.sha256])
    expect(r.code, r.stderr).toBe(0)
    expect(sha(r.path)).toBe(f.sha256)
  })

  it('a certificate nobody trusts stops the download with a clear error and no file', async () => {
    const f = srv.addFile('/tls/untrusted.bin', { size: MiB, seed: 'untrusted' })
    const r = await download(f, [], {})
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/certificate of 127\.0\.0\.1:\d+ is not trusted/)
    expect(existsSync(r.path)).toBe(false)
  })
})

/** The pod helper's `start`, trusting the test certificate through SSL_CERT_FILE (its process only). */
function helperStart(req: Record<string, unknown>): Promise<{ ok: boolean; id: string }> {
  return new Promise((resolve, reject) => {
    const child = childWithErrorListeners(
      spawn('python3', [...PYTHON_FLAGS, HELPER_PATH, 'start'], {
        env: { ...process.env, SSL_CERT_FILE: cert.certPath },
        stdio: ['pipe', 'pipe', 'inherit']
      })
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('close', () => resolve(JSON.parse(out.split('\n')[0]!) as { ok: boolean; id: string }))
    child.stdin.end(JSON.stringify(req))
  })
}

describe('HTTPS downloads in the pod helper', () => {
  it.each([1, 8])(
    '%i connection(s) over TLS with drops: right bytes, sha256 checked',
    async (c) => {
      const f = srv.addFile(`/tls/helper-${c}.bin`, {
        size: 24 * MiB,
        seed: `helper${c}`,
        dropAfterBytes: 5 * MiB,
        dropTimes: 3
      })
      const workspace = mkdtempSync(join(tmpdir(), 'podpull-tls-helper-'))
      bases.push(workspace)
      const models = join(workspace, 'ComfyUI', 'models')
      mkdirSync(join(models, 'checkpoints'), { recursive: true })
      const a = await helperStart({
        workspace,
        models_dir: models,
        url: f.url,
        folder: 'checkpoints',
        filename: 'model.bin',
        connections: c,
        sha256: f.sha256,
        tokens: {},
        ...FAST
      })
      expect(a.ok).toBe(true)
      await expect
        .poll(() => Object.values(readStatusFile(workspace)).find((e) => e.id === a.id)?.status, {
          timeout: 50_000,
          interval: 50
        })
        .toMatch(/completed|error/)
      const entry = Object.values(readStatusFile(workspace)).find((e) => e.id === a.id)!
      expect(entry.status, JSON.stringify(entry)).toBe('completed')
      expect(sha(join(models, 'checkpoints', 'model.bin'))).toBe(f.sha256)
      // One connection resumes where each drop left off. (With 8, the first
      // whole-file answer overfills socket buffers before it is cut to its segment.)
      if (c === 1) expect(srv.bytesServed(f.path)).toBeLessThanOrEqual(f.size * 1.05)
    }
  )
})
