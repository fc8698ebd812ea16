// The headless server: the same handlers over a WebSocket, a per-run token,
// our own Origin only, loopback Host names only, and clear errors for bad calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'node:http'
import WebSocket from 'ws'
import {
  publicBindWarning,
  startHeadlessServer,
  type HeadlessServer
} from '../../src/main/headless/server'
import { makeTestApp } from '../support/testApp'
import { staticPageDir } from '../support/staticPage'

let server: HeadlessServer
let app: Awaited<ReturnType<typeof makeTestApp>>

beforeAll(async () => {
  app = await makeTestApp()
  const dir = staticPageDir()
  server = await startHeadlessServer({ handlers: app.handlers, events: app.core, staticDir: dir })
})
afterAll(async () => server?.close())

function connect(
  opts: { token?: string | null; origin?: string; host?: string } = {}
): Promise<WebSocket> {
  const token = opts.token === undefined ? server.token : opts.token
  const q = token === null ? '' : `?token=${encodeURIComponent(token)}`
  const headers: Record<string, string> = {}
  if (opts.origin) headers.Origin = opts.origin
  if (opts.host) headers.Host = opts.host
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api${q}`, { headers })
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    // Kept for the socket's life: a reset after the test is done must not escape.
    ws.on('error', reject)
  })
}

function rpc(
  ws: WebSocket,
  m: string,
  a: unknown
): Promise<{ ok: boolean; v?: unknown; e?: { code: string; message: string } }> {
  const id = Math.floor(Math.random() * 1e9)
  return new Promise((resolve) => {
    const onMsg = (data: WebSocket.RawData): void => {
      const msg = JSON.parse(String(data))
      if (msg.t === 'res' && msg.id === id) {
        ws.off('message', onMsg)
        resolve(msg)
      }
    }
    ws.on('message', onMsg)
    ws.send(JSON.stringify({ t: 'call', id, m, a }))
  })
}

describe('podpull serve', () => {
  it('serves the dashboard page with a CSP', async () => {
    const res = await fetch(`${server.url}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(await res.text()).toContain('PodPull')
    expect((await fetch(`${server.url}/../../etc/passwd`)).status).toBe(404)
  })

  it('prints a page URL that carries the token', () => {
    expect(server.pageUrl).toBe(`${server.url}/?token=${server.token}`)
    expect(server.token.length).toBeGreaterThanOrEqual(32)
  })

  it('refuses a WebSocket without the token or with a wrong one', async () => {
    await expect(connect({ token: null })).rejects.toThrow('HTTP 401')
    await expect(connect({ token: 'guess' })).rejects.toThrow('HTTP 401')
  })

  it('refuses a WebSocket from a foreign Origin even with the token', async () => {
    await expect(connect({ origin: 'http://evil.example' })).rejects.toThrow('HTTP 403')
    await expect(connect({ origin: `http://localhost:${server.port + 1}` })).rejects.toThrow(
      'HTTP 403'
    )
  })

  it('refuses a foreign Host name (DNS rebinding)', async () => {
    await expect(
      connect({ host: `evil.example:${server.port}`, origin: `http://evil.example:${server.port}` })
    ).rejects.toThrow('HTTP 403')
    // fetch() may not set Host; a raw request can.
    const status = await new Promise<number>((resolve, reject) => {
      request(
        { host: '127.0.0.1', port: server.port, path: '/', headers: { Host: 'evil.example' } },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        }
      )
        .on('error', reject)
        .end()
    })
    expect(status).toBe(403)
  })

  it('accepts our own Origin with the token and answers calls', async () => {
    const ws = await connect({ origin: `http://127.0.0.1:${server.port}` })
    const res = await rpc(ws, 'getSnapshot', {})
    expect(res.ok).toBe(true)
    expect(res.v).toMatchObject({ targets: [], downloads: [], host: 'headless' })
    ws.close()
  })

  it('gives an invalid argument a clear error instead of reaching a handler', async () => {
    const ws = await connect()
    const res = await rpc(ws, 'startDownload', { targetId: 'x', url: 'file:///etc/passwd' })
    expect(res).toMatchObject({
      ok: false,
      e: { code: 'bad-request', message: 'startDownload: url must be an http(s) URL' }
    })
    const unknown = await rpc(ws, 'rm -rf', {})
    expect(unknown).toMatchObject({ ok: false, e: { code: 'unknown-method' } })
    ws.close()
  })

  it('pushes events to connected clients', async () => {
    const ws = await connect()
    const got = new Promise((resolve) => {
      ws.on('message', (d) => {
        const msg = JSON.parse(String(d))
        if (msg.t === 'ev' && msg.n === 'settingsChanged') resolve(msg.p)
      })
    })
    await rpc(ws, 'setSettings', { connections: 4 })
    expect(await got).toMatchObject({ connections: 4 })
    ws.close()
  })
})

describe('podpull serve on other addresses', () => {
  it('counts every 127.0.0.0/8 address as loopback in the Host check', async () => {
    const dir = staticPageDir()
    const s = await startHeadlessServer({
      handlers: app.handlers,
      events: app.core,
      staticDir: dir,
      host: '127.0.0.2'
    })
    const get = (host: string): Promise<number> =>
      new Promise((resolve, reject) => {
        request({ host: '127.0.0.2', port: s.port, path: '/', headers: { Host: host } }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
          .on('error', reject)
          .end()
      })
    try {
      expect(await get(`127.0.0.2:${s.port}`)).toBe(200)
      expect(await get(`127.1.2.3:${s.port}`)).toBe(200)
      expect(await get(`localhost:${s.port}`)).toBe(200)
      expect(await get(`[::1]:${s.port}`)).toBe(200)
      expect(await get(`127.0.0.2:${s.port + 1}`)).toBe(403)
      expect(await get(`127.evil.example:${s.port}`)).toBe(403)
      expect(await get(`128.0.0.1:${s.port}`)).toBe(403)
    } finally {
      await s.close()
    }
  })

  it('warns in plain words when bound to a network address, not on loopback', () => {
    for (const h of ['127.0.0.1', '127.3.2.1', 'localhost', '::1', '[::1]'])
      expect(publicBindWarning(h)).toBeNull()
    for (const h of ['0.0.0.0', '::', '192.168.1.5']) {
      const w = publicBindWarning(h)
      expect(w).toContain(h)
      expect(w).toMatch(/unencrypted/)
      expect(w).toMatch(/token/)
    }
  })
})
