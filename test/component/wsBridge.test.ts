// The WebSocket bridge against a real `ws` server speaking the headless
// protocol, including the server going away and coming back on the same port.
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws'
import type { AddressInfo } from 'node:net'
import { createWsBridge, type SocketLike, type WsBridge } from '../../src/renderer/bridge/wsBridge'

interface Call {
  t: 'call'
  id: number
  m: string
  a: unknown
}

/** A tiny stand-in for `podpull serve`'s socket: answers calls from a table. */
async function startServer(port = 0, answers: Record<string, (a: unknown) => unknown> = {}) {
  const wss = new WebSocketServer({ port, host: '127.0.0.1' })
  await new Promise<void>((ok, fail) => {
    wss.on('error', fail) // kept for the server's life
    wss.once('listening', () => ok())
  })
  const calls: Call[] = []
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined) // a client the test drops resets its socket
    ws.on('message', (data) => {
      const c = JSON.parse(String(data)) as Call
      calls.push(c)
      const h = answers[c.m]
      if (c.m === 'hang') return
      if (!h) {
        ws.send(
          JSON.stringify({
            t: 'res',
            id: c.id,
            ok: false,
            e: { code: 'bad-request', message: `Unknown method ${c.m}.` }
          })
        )
        return
      }
      ws.send(JSON.stringify({ t: 'res', id: c.id, ok: true, v: h(c.a) }))
    })
  })
  return {
    port: (wss.address() as AddressInfo).port,
    calls,
    broadcast: (n: string, p: unknown) =>
      wss.clients.forEach((c) => c.send(JSON.stringify({ t: 'ev', n, p }))),
    close: () =>
      new Promise<void>((ok) => {
        wss.clients.forEach((c) => c.terminate())
        wss.close(() => ok())
      })
  }
}

const nodeSocket = (url: string): SocketLike => new NodeWebSocket(url) as unknown as SocketLike

let bridge: WsBridge | null = null
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  bridge?.close()
  bridge = null
  for (const c of cleanups.splice(0)) await c()
})

describe('WebSocket bridge', () => {
  it('calls methods, passes arguments, and rejects with the code main gave', async () => {
    const srv = await startServer(0, {
      clearCompleted: (a) => ({ removed: (a as { targetId: string }).targetId === 't1' ? 2 : 0 })
    })
    cleanups.push(srv.close)
    bridge = createWsBridge({ url: `ws://127.0.0.1:${srv.port}/api?token=x`, connect: nodeSocket })
    await expect(bridge.bridge.clearCompleted({ targetId: 't1' })).resolves.toEqual({ removed: 2 })
    const err = await bridge.bridge.getSettings({}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error & { code: string }).code).toBe('bad-request')
    expect((err as Error).message).toBe('Unknown method getSettings.')
    expect(srv.calls.map((c) => c.m)).toEqual(['clearCompleted', 'getSettings'])
  })

  it('delivers events to subscribers until they unsubscribe', async () => {
    const srv = await startServer(0, { getSettings: () => ({}) })
    cleanups.push(srv.close)
    bridge = createWsBridge({ url: `ws://127.0.0.1:${srv.port}/api`, connect: nodeSocket })
    await bridge.bridge.getSettings({}) // connected
    const got: unknown[] = []
    const off = bridge.bridge.onTargetsChanged((p) => got.push(p))
    srv.broadcast('targetsChanged', [{ id: 'a' }])
    await expect.poll(() => got.length).toBe(1)
    off()
    srv.broadcast('targetsChanged', [{ id: 'b' }])
    srv.broadcast('settingsChanged', {})
    await new Promise((r) => setTimeout(r, 100))
    expect(got).toEqual([[{ id: 'a' }]])
  })

  it('when the server restarts: fails the in-flight call, reconnects, tells onReconnect, sends queued calls', async () => {
    let srv = await startServer(0, { getSettings: () => ({ n: 1 }) })
    const port = srv.port
    bridge = createWsBridge({
      url: `ws://127.0.0.1:${port}/api`,
      connect: nodeSocket,
      backoffMs: [50, 100]
    })
    const reconnects: number[] = []
    const links: boolean[] = []
    bridge.onReconnect(() => reconnects.push(Date.now()))
    bridge.onConnectionChange((c) => links.push(c))
    await expect(bridge.bridge.getSettings({})).resolves.toEqual({ n: 1 })

    const inFlight = (bridge.bridge as unknown as { hang: (a: unknown) => Promise<unknown> })
      .hang({})
      .catch((e: { code: string }) => e.code)
    await expect.poll(() => srv.calls.some((c) => c.m === 'hang')).toBe(true)
    await srv.close()
    await expect(inFlight).resolves.toBe('disconnected')

    // A call made while the server is down goes out once it is back.
    const queued = bridge.bridge.getSettings({})
    await new Promise((r) => setTimeout(r, 300))
    srv = await startServer(port, { getSettings: () => ({ n: 2 }) })
    cleanups.push(srv.close)
    await expect(queued).resolves.toEqual({ n: 2 })
    await expect.poll(() => reconnects.length).toBe(1)
    expect(links[0]).toBe(true)
    expect(links).toContain(false)
    expect(links.at(-1)).toBe(true)
  })
})

describe('WebSocket bridge as an object', () => {
  it('is not mistaken for a promise or a reactive object', async () => {
    const b = createWsBridge({ url: 'ws://127.0.0.1:9/api', connect: () => fakeSocket() })
    const api = b.bridge as unknown as Record<string, unknown>
    expect(api.then).toBeUndefined()
    expect(api.__v_isReactive).toBeUndefined()
    expect(typeof api.getSnapshot).toBe('function')
    b.close()
  })
})

function fakeSocket(): SocketLike {
  return {
    readyState: 0,
    send: () => undefined,
    close: () => undefined,
    onopen: null,
    onclose: null,
    onerror: null,
    onmessage: null
  }
}
