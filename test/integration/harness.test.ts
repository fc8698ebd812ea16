// The test harnesses do what they promise: every model-server fault is seen
// by a plain HTTP client exactly as described, and the real sshd accepts our
// key, reports the host key a client sees, and can drop, restart and re-key.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { get as httpGet, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { promisify } from 'node:util'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { Client } from 'ssh2'
import { contentOf, sha256Of, startModelServer, type ModelServer } from '../harness/modelServer'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { pathWithout } from '../harness/pathWithout'
import { withErrorListener } from '../support/listeners'

const MB = 1_000_000

interface Answer {
  status: number
  headers: IncomingMessage['headers']
  rawHeaders: string[]
  body: Buffer
  error?: string // the connection broke before the body was complete
  ms: number
}

/** A deliberately naive client: one GET (or HEAD), no redirects followed. */
function fetchRaw(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET'
): Promise<Answer> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { headers, method, agent: false }, (res) => {
      const parts: Buffer[] = []
      const done = (error?: string): void =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(parts),
          error,
          ms: performance.now() - t0
        })
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => done())
      res.on('error', (e) => done(e.message))
      res.on('aborted', () => done('aborted'))
    })
    req.on('error', reject)
  })
}

/** Headers plus whatever body arrives within `ms`, then hang up. */
function bodyWithin(url: string, ms: number): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false }, (res) => {
      let bytes = 0
      res.on('data', (c: Buffer) => (bytes += c.length))
      res.on('error', () => undefined)
      setTimeout(() => {
        req.destroy()
        resolve({ status: res.statusCode ?? 0, bytes })
      }, ms)
    })
    req.on('error', reject)
  })
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

describe('model server', () => {
  let srv: ModelServer
  beforeAll(async () => {
    srv = await startModelServer()
  })
  afterAll(async () => srv?.close())

  it('serves generated content whose sha256 matches sha256Of and contentOf', async () => {
    const size = 3 * MB // crosses the pattern length several times
    const f = srv.addFile('/hf/full.safetensors', { size, seed: 'full' })
    const r = await fetchRaw(f.url)
    expect(r.status).toBe(200)
    expect(r.body.length).toBe(size)
    expect(sha(r.body)).toBe(sha256Of(size, 'full'))
    expect(f.sha256).toBe(sha256Of(size, 'full'))
    expect(sha(contentOf(size, 'full'))).toBe(f.sha256)
    expect(sha256Of(size, 'other')).not.toBe(f.sha256)
    expect(r.headers['content-length']).toBe(String(size))
    expect(r.headers['accept-ranges']).toBe('bytes')
    expect(r.headers.etag).toBe(`"full-${size}"`)
    expect(r.headers['last-modified']).toMatch(/GMT$/)
    expect(r.headers['content-type']).toBe('application/octet-stream')
    expect(srv.bytesServed('/hf/full.safetensors')).toBe(size)
    const log = srv.requestsFor('/hf/full.safetensors')
    expect(log).toHaveLength(1)
    expect(log[0]).toMatchObject({ host: 'primary', method: 'GET', status: 200, bytesSent: size })
  })

  it('answers 404 for unknown paths and refuses faults for them', async () => {
    expect((await fetchRaw(`${srv.url}/nope.bin`)).status).toBe(404)
    expect(() => srv.setFaults('/nope.bin', { forbidden: true })).toThrow(/addFile/)
  })

  it('serves byte ranges with 206 and Content-Range, 416 when unsatisfiable', async () => {
    const size = 2 * MB
    const f = srv.addFile('/range.bin', { size, seed: 'r' })
    const mid = await fetchRaw(f.url, { Range: 'bytes=1048570-1048580' })
    expect(mid.status).toBe(206)
    expect(mid.headers['content-range']).toBe(`bytes 1048570-1048580/${size}`)
    expect(mid.body.equals(contentOf(size, 'r', 1048570, 1048581))).toBe(true)
    const open = await fetchRaw(f.url, { Range: `bytes=${size - 100}-` })
    expect(open.status).toBe(206)
    expect(open.body.equals(contentOf(size, 'r', size - 100))).toBe(true)
    const suffix = await fetchRaw(f.url, { Range: 'bytes=-10' })
    expect(suffix.headers['content-range']).toBe(`bytes ${size - 10}-${size - 1}/${size}`)
    expect(suffix.body.equals(contentOf(size, 'r', size - 10))).toBe(true)
    const bad = await fetchRaw(f.url, { Range: `bytes=${size}-` })
    expect(bad.status).toBe(416)
    expect(bad.headers['content-range']).toBe(`bytes */${size}`)
    const head = await fetchRaw(f.url, { Range: 'bytes=0-99' }, 'HEAD')
    expect(head.status).toBe(206)
    expect(head.headers['content-length']).toBe('100')
    expect(head.body.length).toBe(0)
  })

  it('ignoreRange answers a Range request with 200 and the full body', async () => {
    const f = srv.addFile('/norange.bin', { size: MB, seed: 'n', ignoreRange: true })
    const r = await fetchRaw(f.url, { Range: 'bytes=100-199' })
    expect(r.status).toBe(200)
    expect(r.headers['accept-ranges']).toBeUndefined()
    expect(sha(r.body)).toBe(f.sha256)
  })

  it('dropAfterBytes cuts the body after N bytes; dropTimes limits it to the first N', async () => {
    const f = srv.addFile('/drop.bin', { size: MB, seed: 'd', dropAfterBytes: 300_000 })
    for (let i = 0; i < 2; i++) {
      const r = await fetchRaw(f.url)
      expect(r.status).toBe(200)
      expect(r.error).toBeDefined()
      expect(r.body.length).toBe(300_000)
      expect(r.body.equals(contentOf(MB, 'd', 0, 300_000))).toBe(true)
    }
    srv.setFaults('/drop.bin', { dropAfterBytes: 1000, dropTimes: 1 })
    const first = await fetchRaw(f.url, { Range: 'bytes=5000-' })
    expect(first.body.length).toBe(1000)
    expect(first.error).toBeDefined()
    const second = await fetchRaw(f.url)
    expect(second.error).toBeUndefined()
    expect(sha(second.body)).toBe(f.sha256)
  })

  it('throttles each response to throttleBps, ranged ones too, and can be lifted mid-way', async () => {
    // Lower bounds only: a throttle makes a body take at least size / rate, and
    // a loaded machine can only make it slower.
    const f = srv.addFile('/slow.bin', { size: MB, seed: 's', throttleBps: 2 * MB })
    const one = await fetchRaw(f.url)
    expect(sha(one.body)).toBe(f.sha256)
    expect(one.ms).toBeGreaterThanOrEqual(400)
    const [a, b] = await Promise.all([
      fetchRaw(f.url, { Range: 'bytes=0-499999' }),
      fetchRaw(f.url, { Range: 'bytes=500000-' })
    ])
    expect(sha(Buffer.concat([a!.body, b!.body]))).toBe(f.sha256)
    expect(Math.min(a!.ms, b!.ms)).toBeGreaterThanOrEqual(200)
    // 8 MB at 20 kB/s would outlast the test's timeout: only lifting the throttle ends it.
    const g = srv.addFile('/lift.bin', { size: 8 * MB, seed: 'l', throttleBps: 20_000 })
    const pending = fetchRaw(g.url)
    await vi.waitFor(() => expect(srv.bytesServed('/lift.bin')).toBeGreaterThan(0), {
      timeout: 20_000
    })
    srv.setFaults('/lift.bin', { throttleBps: undefined })
    const lifted = await pending
    expect(sha(lifted.body)).toBe(g.sha256)
  })

  it('holds a body at the holdAt gate until the test moves or opens it', async () => {
    const f = srv.addFile('/gate.bin', { size: MB, seed: 'g', holdAt: 300_000 })
    const parts: Buffer[] = []
    let ended = false
    const req = withErrorListener(
      httpGet(f.url, { agent: false }, (res) => {
        res.on('data', (c: Buffer) => parts.push(c))
        res.on('end', () => (ended = true))
      })
    )
    const received = (): number => parts.reduce((n, p) => n + p.length, 0)
    await vi.waitFor(() => expect(received()).toBe(300_000), { timeout: 20_000 })
    // Held: the response stays open and nothing more is sent, however long we look.
    expect(srv.bytesServed(f.path)).toBe(300_000)
    expect(srv.openResponses(f.path)).toBe(1)
    expect(ended).toBe(false)
    srv.setFaults(f.path, { holdAt: 700_000 })
    await vi.waitFor(() => expect(received()).toBe(700_000), { timeout: 20_000 })
    expect(ended).toBe(false)
    // A request that starts at or past the gate gets its headers and no body yet.
    const late = withErrorListener(
      httpGet(f.url, { agent: false, headers: { Range: 'bytes=800000-' } })
    )
    const lateStatus = await new Promise<number>((r) =>
      late.on('response', (res) => r(res.statusCode ?? 0))
    )
    expect(lateStatus).toBe(206)
    srv.setFaults(f.path, { holdAt: undefined })
    await vi.waitFor(() => expect(ended).toBe(true), { timeout: 20_000 })
    expect(sha(Buffer.concat(parts))).toBe(f.sha256)
    late.destroy()
    req.destroy()
    await vi.waitFor(() => expect(srv.openResponses(f.path)).toBe(0), { timeout: 20_000 })
    // holdAfterBytes: each response, wherever it starts, stops after that many bytes.
    srv.setFaults(f.path, { holdAfterBytes: 1000 })
    const seg = (range: string) =>
      new Promise<{ got: () => number; res: IncomingMessage }>((resolve) => {
        let n = 0
        withErrorListener(
          httpGet(f.url, { agent: false, headers: { Range: range } }, (res) => {
            res.on('data', (c: Buffer) => (n += c.length))
            res.on('error', () => undefined)
            resolve({ got: () => n, res })
          })
        )
      })
    const segs = await Promise.all([seg('bytes=0-'), seg('bytes=500000-')])
    await vi.waitFor(() => expect(segs.map((s) => s.got())).toEqual([1000, 1000]), {
      timeout: 20_000
    })
    srv.setFaults(f.path, { holdAfterBytes: undefined })
    await vi.waitFor(() => expect(segs.map((s) => s.got())).toEqual([MB, MB - 500_000]), {
      timeout: 20_000
    })
  })

  it('changes the ETag at run time and If-Range then gets the full body', async () => {
    const size = MB
    const f = srv.addFile('/etag.bin', { size, seed: 'e' })
    const first = await fetchRaw(f.url, { Range: 'bytes=0-9' })
    const oldTag = first.headers.etag!
    const same = await fetchRaw(f.url, { Range: 'bytes=10-19', 'If-Range': oldTag })
    expect(same.status).toBe(206)
    srv.setFaults('/etag.bin', { etag: 'v2' })
    const changed = await fetchRaw(f.url, { Range: 'bytes=10-19', 'If-Range': oldTag })
    expect(changed.headers.etag).toBe('"v2"')
    expect(changed.status).toBe(200)
    expect(changed.body.length).toBe(size)
    srv.setFaults('/etag.bin', { weakEtag: true })
    const weak = await fetchRaw(f.url, { Range: 'bytes=10-19', 'If-Range': 'W/"v2"' })
    expect(weak.headers.etag).toBe('W/"v2"')
    expect(weak.status).toBe(200) // a weak validator never satisfies If-Range
    srv.setFaults('/etag.bin', { etag: null, weakEtag: undefined })
    const lm = (await fetchRaw(f.url, {}, 'HEAD')).headers
    expect(lm.etag).toBeUndefined()
    const byDate = await fetchRaw(f.url, {
      Range: 'bytes=10-19',
      'If-Range': lm['last-modified']!
    })
    expect(byDate.status).toBe(206)
    srv.setFaults('/etag.bin', { lastModified: null })
    expect((await fetchRaw(f.url, {}, 'HEAD')).headers['last-modified']).toBeUndefined()
  })

  it('redirects to the second host, whose log shows whether Authorization arrived', async () => {
    const f = srv.addFile('/hf/gated.safetensors', {
      size: 100_000,
      seed: 'g',
      redirectToSecond: true,
      requireToken: 'hf_secret'
    })
    expect(srv.secondUrl).not.toBe(srv.url)
    const auth = { Authorization: 'Bearer hf_secret' }
    const hop = await fetchRaw(`${f.url}?download=true`, auth)
    expect(hop.status).toBe(302)
    expect(hop.headers.location).toBe(`${f.secondUrl}?download=true`)
    // The naive client forwards the token to the other host…
    const leaked = await fetchRaw(hop.headers.location!, auth)
    expect(sha(leaked.body)).toBe(f.sha256)
    // …and a careful one does not.
    await fetchRaw(hop.headers.location!)
    const onSecond = srv.requestsFor('/hf/gated.safetensors').filter((r) => r.host === 'second')
    expect(onSecond.map((r) => r.headers.authorization)).toEqual(['Bearer hf_secret', undefined])
    expect(onSecond.map((r) => r.status)).toEqual([200, 200])
  })

  it('requireToken: 401 JSON without or with a wrong token, 200 with the right one', async () => {
    const f = srv.addFile('/private.bin', { size: 1000, seed: 'p', requireToken: 'tok' })
    const none = await fetchRaw(f.url)
    expect(none.status).toBe(401)
    expect(none.headers['content-type']).toBe('application/json')
    expect(JSON.parse(none.body.toString())).toHaveProperty('error')
    expect((await fetchRaw(f.url, { Authorization: 'Bearer nope' })).status).toBe(401)
    const ok = await fetchRaw(f.url, { Authorization: 'Bearer tok' })
    expect(ok.status).toBe(200)
    expect(sha(ok.body)).toBe(f.sha256)
  })

  it('forbidden answers 403', async () => {
    const f = srv.addFile('/forbidden.bin', { size: 1000, forbidden: true })
    expect((await fetchRaw(f.url)).status).toBe(403)
  })

  it('requireQuery answers 403 unless the exact signature value is in the query', async () => {
    const f = srv.addFile('/signed.bin', {
      size: 3000,
      seed: 's',
      requireQuery: { 'X-Amz-Signature': 'ab%2Bc/d' }
    })
    expect((await fetchRaw(f.url)).status).toBe(403)
    expect((await fetchRaw(`${f.url}?X-Amz-Signature=wrong`)).status).toBe(403)
    const ok = await fetchRaw(`${f.url}?X-Amz-Date=1&X-Amz-Signature=ab%252Bc%2Fd`)
    expect(ok.status).toBe(200)
    expect(sha(ok.body)).toBe(f.sha256)
  })

  it('expireAfterBytes cuts the response that crosses it, then answers 403', async () => {
    const f = srv.addFile('/expiring.bin', { size: 10_000, seed: 'x', expireAfterBytes: 4000 })
    const first = await fetchRaw(f.url)
    expect(first.status).toBe(200)
    expect(first.body.length).toBe(4000)
    expect((await fetchRaw(f.url, { Range: 'bytes=4000-' })).status).toBe(403)
    srv.setFaults('/expiring.bin', { expireAfterBytes: undefined })
    expect((await fetchRaw(f.url, { Range: 'bytes=4000-' })).status).toBe(206)
  })

  it('htmlLogin serves a 200 HTML login page unless the token is right', async () => {
    const f = srv.addFile('/civitai/1.bin', {
      size: 5000,
      seed: 'c',
      htmlLogin: true,
      requireToken: 'civ'
    })
    const page = await fetchRaw(f.url)
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body.toString()).toMatch(/<form/)
    const ok = await fetchRaw(f.url, { Authorization: 'Bearer civ' })
    expect(ok.headers['content-type']).toBe('application/octet-stream')
    expect(sha(ok.body)).toBe(f.sha256)
  })

  it('authRedirect sends a 302 to /login?reason=download-auth, an HTML page', async () => {
    const f = srv.addFile('/civitai/2.bin', { size: 5000, authRedirect: true })
    const r = await fetchRaw(f.url)
    expect(r.status).toBe(302)
    expect(r.headers.location).toBe(`${srv.url}/login?reason=download-auth`)
    const page = await fetchRaw(r.headers.location!)
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
  })

  it('stall sends headers and no body; stallAfterBytes sends N bytes then nothing', async () => {
    const f = srv.addFile('/stall.bin', { size: MB, stall: true })
    expect(await bodyWithin(f.url, 300)).toEqual({ status: 200, bytes: 0 })
    srv.setFaults('/stall.bin', { stall: undefined, stallAfterBytes: 12_345 })
    expect(await bodyWithin(f.url, 300)).toEqual({ status: 200, bytes: 12_345 })
  })

  it('close() ends stalled connections too', async () => {
    const own = await startModelServer()
    const f = own.addFile('/stuck.bin', { size: MB, stall: true })
    const pending = fetchRaw(f.url)
    await new Promise((r) => setTimeout(r, 100))
    await own.close()
    const r = await pending
    expect(r.body.length).toBe(0)
    expect(r.error).toBeDefined()
    await expect(fetchRaw(f.url)).rejects.toThrow(/ECONNREFUSED/)
  })

  it('passes Content-Disposition through verbatim and rejects header injection', async () => {
    const hostile = `attachment; filename="../../etc/passwd"; filename*=UTF-8''..%2F..%2Fevil.sh`
    const f = srv.addFile('/cd.bin', { size: 10, contentDisposition: hostile })
    expect((await fetchRaw(f.url)).headers['content-disposition']).toBe(hostile)
    const utf8 = 'attachment; filename="modèle ✓.safetensors"'
    srv.setFaults('/cd.bin', { contentDisposition: utf8 })
    const r = await fetchRaw(f.url)
    const raw = r.rawHeaders[r.rawHeaders.indexOf('Content-Disposition') + 1]!
    expect(Buffer.from(raw, 'latin1').toString('utf8')).toBe(utf8) // sent as raw UTF-8 bytes
    expect(() => srv.setFaults('/cd.bin', { contentDisposition: 'a\r\nSet-Cookie: x=1' })).toThrow(
      /CR, LF/
    )
  })

  it('failStatus answers that status for the first failTimes requests, with Retry-After', async () => {
    const f = srv.addFile('/flaky.bin', {
      size: 1000,
      seed: 'f',
      failStatus: 503,
      failTimes: 2,
      retryAfter: 7
    })
    const a = await fetchRaw(f.url)
    const b = await fetchRaw(f.url)
    expect([a.status, b.status]).toEqual([503, 503])
    expect(a.headers['retry-after']).toBe('7')
    const c = await fetchRaw(f.url)
    expect(c.status).toBe(200)
    expect(sha(c.body)).toBe(f.sha256)
    srv.setFaults('/flaky.bin', { failStatus: 429, failTimes: undefined, retryAfter: undefined })
    const d = await fetchRaw(f.url)
    expect(d.status).toBe(429)
    expect(d.headers['retry-after']).toBeUndefined()
    expect((await fetchRaw(f.url)).status).toBe(200)
  })

  it('noContentLength sends the body chunked; contentType sets the type', async () => {
    const f = srv.addFile('/chunked.bin', {
      size: 2 * MB,
      seed: 'ch',
      noContentLength: true,
      contentType: 'binary/octet-stream'
    })
    const r = await fetchRaw(f.url)
    expect(r.headers['content-length']).toBeUndefined()
    expect(r.headers['transfer-encoding']).toBe('chunked')
    expect(r.headers['content-type']).toBe('binary/octet-stream')
    expect(sha(r.body)).toBe(f.sha256)
  })
})

// ---------------------------------------------------------------- sshd

const exec = promisify(execFile)

function sshArgs(s: SshdHarness, ...cmd: string[]): string[] {
  return [
    ...['-i', s.keyPath, '-p', String(s.port), '-o', 'BatchMode=yes'],
    ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'],
    ...['-o', 'LogLevel=ERROR', `${s.user}@127.0.0.1`, ...cmd]
  ]
}

const ssh = async (s: SshdHarness, ...cmd: string[]): Promise<string> =>
  (await exec('ssh', sshArgs(s, ...cmd), { timeout: 20_000 })).stdout

/** Connects with ssh2 and reports the host key fingerprint it was shown. */
function ssh2Connect(
  s: SshdHarness,
  auth: { privateKey: Buffer } | { password: string }
): Promise<{ client: Client; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const client = new Client()
    let fingerprint = ''
    client.once('ready', () => resolve({ client, fingerprint }))
    // Kept for the client's whole life: sshd resets a connection the test ended.
    client.on('error', reject)
    client.connect({
      host: s.host,
      port: s.port,
      username: s.user,
      ...auth,
      hostVerifier: (key: Buffer) => {
        const b64 = createHash('sha256').update(key).digest('base64').replace(/=+$/, '')
        fingerprint = `SHA256:${b64}`
        return true
      }
    })
  })
}

const portAccepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port })
    c.once('connect', () => (c.destroy(), resolve(true)))
    c.once('error', () => resolve(false))
  })

describe('sshd', () => {
  let sshd: SshdHarness
  let noPython: string
  beforeAll(async () => {
    noPython = pathWithout(['python3'])
    sshd = await startSshd({ sessionEnv: { PATH: noPython, PODPULL_MARK: 'set by test' } })
  })
  afterAll(async () => {
    await sshd?.close()
    rmSync(noPython, { recursive: true, force: true })
  })

  it('accepts our key: ssh … echo hi prints hi', async () => {
    expect(sshd.host).toBe('127.0.0.1')
    expect(sshd.pid).toBeGreaterThan(0)
    expect(sshd.publicKey).toMatch(/^ssh-ed25519 /)
    expect(await ssh(sshd, 'echo', 'hi')).toBe('hi\n')
    expect(sshd.logs()).toMatch(/Accepted publickey for/)
  })

  it('applies sessionEnv to sessions, out of reach of ~/.bashrc', async () => {
    const home = `${sshd.dir}/home`
    expect(sshd.home).toBe(home)
    expect(await ssh(sshd, 'echo "$PATH|$PODPULL_MARK|$HOME"')).toBe(
      `${noPython}|set by test|${home}\n`
    )
    expect(await ssh(sshd, 'command -v python3 || echo no python3')).toBe('no python3\n')
    expect(await ssh(sshd, 'command -v sh')).toBe(`${noPython}/sh\n`)
  })

  it('reports the host key fingerprint a client sees, and serves sftp', async () => {
    const { client, fingerprint } = await ssh2Connect(sshd, {
      privateKey: readFileSync(sshd.keyPath)
    })
    expect(fingerprint).toBe(sshd.hostKeyFingerprint)
    const names = await new Promise<string[]>((resolve, reject) =>
      client.sftp((err, sftp) => {
        if (err) return reject(err)
        sftp.readdir(sshd.dir, (e, list) => (e ? reject(e) : resolve(list.map((l) => l.filename))))
      })
    )
    expect(names).toContain('sshd_config')
    client.end()
  })

  it('killConnections cuts a live session and keeps listening', async () => {
    const { client } = await ssh2Connect(sshd, { privateKey: readFileSync(sshd.keyPath) })
    const closed = new Promise<void>((r) => client.once('close', () => r()))
    client.on('error', () => undefined)
    await new Promise<void>((resolve, reject) =>
      client.exec('sleep 30', (err) => (err ? reject(err) : resolve()))
    )
    await sshd.killConnections()
    // The command sleeps for 30 s: only the cut ends the session before then.
    await closed
    expect(await ssh(sshd, 'echo', 'still here')).toBe('still here\n')
  })

  it('stop closes the port; start brings it back on the same port with the same key', async () => {
    const { port, hostKeyFingerprint } = sshd
    await sshd.stop()
    expect(sshd.pid).toBeNull()
    expect(await portAccepts(port)).toBe(false)
    await sshd.start()
    expect(sshd.port).toBe(port)
    expect(sshd.hostKeyFingerprint).toBe(hostKeyFingerprint)
    const { client, fingerprint } = await ssh2Connect(sshd, {
      privateKey: readFileSync(sshd.keyPath)
    })
    client.end()
    expect(fingerprint).toBe(hostKeyFingerprint)
  })

  it('regenerateHostKey gives a new fingerprint that clients then see', async () => {
    const before = sshd.hostKeyFingerprint
    await sshd.regenerateHostKey()
    expect(sshd.hostKeyFingerprint).toMatch(/^SHA256:/)
    expect(sshd.hostKeyFingerprint).not.toBe(before)
    const { client, fingerprint } = await ssh2Connect(sshd, {
      privateKey: readFileSync(sshd.keyPath)
    })
    client.end()
    expect(fingerprint).toBe(sshd.hostKeyFingerprint)
  })
})

describe('sshd without a session environment', () => {
  it("gives sessions an empty HOME of their own: the test user's ~/.bashrc never runs", async () => {
    const s = await startSshd()
    try {
      expect(s.home).toBe(`${s.dir}/home`)
      expect(readdirSync(s.home)).toEqual([])
      // A login shell of this user would read $HOME/.bashrc: one placed there runs.
      writeFileSync(join(s.home, '.bashrc'), 'export PODPULL_RC=ran\n')
      expect(await ssh(s, 'echo "$HOME|${PODPULL_RC:-none}"')).toBe(`${s.home}|ran\n`)
    } finally {
      await s.close()
    }
  })
})

describe('sshd with a password', () => {
  const shadowEntry = (user: string): string | undefined =>
    readFileSync('/etc/shadow', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${user}:`))

  it('accepts the password while up and puts the old one back when stopped', async () => {
    if (process.getuid?.() !== 0) {
      // Only root can set an account password for sshd to check.
      await expect(startSshd({ password: 'pw-Test-123' })).rejects.toThrow(/needs root/)
      return
    }
    const user = userInfo().username
    const before = shadowEntry(user)
    const s = await startSshd({ password: 'pw-Test-123' })
    try {
      const { client } = await ssh2Connect(s, { password: 'pw-Test-123' })
      client.end()
      await expect(ssh2Connect(s, { password: 'wrong' })).rejects.toThrow(/authentication/i)
      expect(s.logs()).toMatch(/Accepted password for/)
      expect(s.logs()).not.toContain('pw-Test-123')
    } finally {
      await s.close()
    }
    expect(shadowEntry(user)).toBe(before)
  })
})
