// `podpull serve` (the real built process) against 1,000 hostile or broken
// connections — wrong tokens, resets mid-handshake, oversize and malformed
// frames, foreign Origins and Hosts, HTTP garbage — while a local download runs
// inside it. The server must keep answering and the download must finish intact.
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server, type ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startServe, type ServeProcess } from '../e2e/serveProcess'
import { apiClient, assertBuilt, freshComfy, runCli, spawnCli } from '../support/cli'

const TOKEN = 'e2e-token-0123456789abcdefghijklmnop' // startServe's fixed token
const FILE = randomBytes(4 << 20)
const FILE_SHA = createHash('sha256').update(FILE).digest('hex')

/** Serves FILE: half of it, then waits for the gate the test opens. */
function gatedServer(): { server: Server; halfSent: Promise<void>; open: () => void } {
  let open!: () => void
  const gate = new Promise<void>((r) => (open = r))
  let halfSent!: () => void
  const half = new Promise<void>((r) => (halfSent = r))
  const server = createServer((req, res: ServerResponse) => {
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': FILE.length
    })
    if (req.method === 'HEAD') return res.end()
    const mid = FILE.length >> 1
    res.write(FILE.subarray(0, mid), () => halfSent())
    void gate.then(() => res.end(FILE.subarray(mid)))
  })
  return { server, halfSent: half, open }
}

// ── one hostile connection of each kind ─────────────────────────────────

const upgradeRequest = (o: { port: number; token?: string; host?: string; origin?: string }) =>
  `GET /api?token=${encodeURIComponent(o.token ?? TOKEN)} HTTP/1.1\r\n` +
  `Host: ${o.host ?? `127.0.0.1:${o.port}`}\r\n` +
  (o.origin ? `Origin: ${o.origin}\r\n` : '') +
  'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
  `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`

/** A masked client frame with this opcode, header-declared length and body. */
function frame(opcode: number, body: Buffer, declared = body.length, fin = true): Buffer {
  const mask = randomBytes(4)
  let head: Buffer
  if (declared < 126) head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | declared])
  else if (declared < 65536) {
    head = Buffer.alloc(4)
    head[0] = (fin ? 0x80 : 0) | opcode
    head[1] = 0x80 | 126
    head.writeUInt16BE(declared, 2)
  } else {
    head = Buffer.alloc(10)
    head[0] = (fin ? 0x80 : 0) | opcode
    head[1] = 0x80 | 127
    head.writeBigUInt64BE(BigInt(declared), 2)
  }
  const masked = Buffer.from(body.map((b, i) => b ^ mask[i % 4]!))
  return Buffer.concat([head, mask, masked])
}

/** Opens a raw TCP connection; resolves when it is closed, however that happens. */
function raw(port: number, script: (s: Socket, ended: Promise<void>) => void): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    const ended = new Promise<void>((r) => s.once('close', () => r()))
    s.on('error', () => undefined)
    s.once('connect', () => script(s, ended))
    void ended.then(resolve)
  })
}

/** Waits until the 101 answer arrived (or the server hung up). */
function handshaken(s: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    let got = ''
    const onData = (d: Buffer): void => {
      got += d.toString('latin1')
      if (got.includes('\r\n\r\n')) {
        s.off('data', onData)
        resolve(got.startsWith('HTTP/1.1 101'))
      }
    }
    s.on('data', onData)
    s.once('close', () => resolve(false))
  })
}

type Attack = (port: number) => Promise<void>

const ATTACKS: Record<string, Attack> = {
  badTokenThenReset: (port) =>
    raw(port, (s) => {
      s.write(upgradeRequest({ port, token: 'wrong' }))
      s.resetAndDestroy()
    }),
  badTokenReadThenReset: (port) =>
    raw(port, (s) => {
      s.write(upgradeRequest({ port, token: 'wrong' }))
      s.once('data', () => s.resetAndDestroy())
    }),
  resetMidHandshake: (port) =>
    raw(port, (s) => {
      const req = upgradeRequest({ port })
      s.write(req.slice(0, Math.floor(req.length / 2)), () => s.resetAndDestroy())
    }),
  resetAfterUpgradeRequest: (port) =>
    raw(port, (s) => s.write(upgradeRequest({ port }), () => s.resetAndDestroy())),
  badOrigin: (port) =>
    raw(port, (s) => {
      s.write(upgradeRequest({ port, origin: 'http://evil.example' }))
      s.once('data', () => s.resetAndDestroy())
    }),
  badHost: (port) =>
    raw(port, (s) => {
      s.write(upgradeRequest({ port, host: `evil.example:${port}` }))
      s.once('data', () => s.end())
    }),
  oversizeFrame: (port) =>
    raw(port, (s) => {
      s.write(upgradeRequest({ port }))
      void handshaken(s).then(() => {
        // Declares 2 MiB (over maxPayload), sends a little, then resets.
        s.write(frame(0x1, randomBytes(1024), 2 << 20), () => s.resetAndDestroy())
      })
    }),
  oversizeMessage: (port) =>
    raw(port, (s) => {
      s.write(upgradeRequest({ port }))
      void handshaken(s).then(() => s.write(frame(0x1, Buffer.alloc((1 << 20) + 10, 0x61))))
    }),
  unmaskedFrame: (port) =>
    raw(port, (s) => {
      s.write(upgradeRequest({ port }))
      void handshaken(s).then(() => s.write(Buffer.from([0x81, 0x03, 0x61, 0x62, 0x63])))
    }),
  badOpcode: (port) =>
    raw(port, (s) => {
      s.write(upgradeRequest({ port }))
      void handshaken(s).then(() => s.write(frame(0x3, Buffer.from('x'))))
    }),
  invalidUtf8: (port) =>
    raw(port, (s) => {
      s.write(upgradeRequest({ port }))
      void handshaken(s).then(() => s.write(frame(0x1, Buffer.from([0xff, 0xfe, 0xc3]))))
    }),
  randomBytesAfterUpgrade: (port) =>
    raw(port, (s) => {
      s.write(upgradeRequest({ port }))
      void handshaken(s).then(() => s.write(randomBytes(64), () => s.resetAndDestroy()))
    }),
  malformedJsonThenReset: (port) =>
    raw(port, (s) => {
      s.write(upgradeRequest({ port }))
      void handshaken(s).then(() => {
        s.write(frame(0x1, Buffer.from('{"t":"call","id":')))
        s.write(frame(0x1, Buffer.from(JSON.stringify({ t: 'call', id: 1, m: 'x', a: null }))))
        s.write(frame(0x1, Buffer.from('[1,2'), undefined, false), () => s.resetAndDestroy())
      })
    }),
  httpGarbage: (port) =>
    raw(port, (s) => {
      s.write(`\x00\x01GARBAGE ${randomBytes(8).toString('hex')}\r\n\r\n`)
      s.once('data', () => s.end())
    }),
  badPercentPath: (port) =>
    raw(port, (s) => {
      s.write(`GET /%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
      s.once('data', () => s.end())
    })
}

/** Runs `total` attacks, `parallel` at a time, cycling through the kinds. */
async function fuzz(port: number, total: number, parallel: number): Promise<void> {
  const kinds = Object.values(ATTACKS)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++
      // Bounded in time: a connection the server leaves open is closed by us.
      await Promise.race([kinds[i % kinds.length]!(port), new Promise((r) => setTimeout(r, 5000))])
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker))
}

let origin: ReturnType<typeof gatedServer>
let serve: ServeProcess | null = null

beforeAll(async () => {
  assertBuilt()
  origin = gatedServer()
  await new Promise<void>((r, fail) => {
    origin.server.on('error', fail) // kept for the server's life
    origin.server.listen(0, '127.0.0.1', r)
  })
})
afterAll(async () => {
  origin?.open()
  await serve?.stop()
  origin?.server.closeAllConnections()
  await new Promise((r) => origin?.server.close(r))
})

describe('podpull serve under a fuzz of bad clients', () => {
  it('survives 1,000 hostile connections while a download runs and completes intact', async () => {
    const t = freshComfy()
    const env = { PODPULL_HOME: t.home }
    const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', t.comfy], env)
    expect(add.code, add.stderr).toBe(0)
    serve = await startServe(env)
    const client = await apiClient(serve.url, TOKEN)
    const snap = (await client.call('getSnapshot')) as { targets: { id: string }[] }
    const targetId = snap.targets[0]!.id
    const port = (origin.server.address() as AddressInfo).port
    const url = `http://127.0.0.1:${port}/fuzz/model.safetensors`
    const started = (await client.call('startDownload', { targetId, url, folder: 'loras' })) as {
      id: string
    }
    await origin.halfSent // the download is under way and held at half
    const states = async (): Promise<string[]> =>
      ((await client.call('getSnapshot')) as { downloads: { state: string }[] }).downloads.map(
        (d) => d.state
      )
    await expect.poll(states, { timeout: 30_000, interval: 100 }).toEqual(['downloading'])

    await fuzz(serve.port, 1000, 16)

    // Still serving: a fresh, well-behaved client is answered.
    const after = await apiClient(serve.url, TOKEN)
    expect(await after.call('getSnapshot')).toMatchObject({ host: 'headless' })
    const page = await fetch(`${serve.url}/`)
    expect(page.status).toBe(200)

    origin.open()
    await expect
      .poll(
        async () => {
          const s = (await after.call('getSnapshot')) as {
            downloads: { id: string; state: string }[]
          }
          const d = s.downloads.find((x) => x.id === started.id)
          return d?.state ?? JSON.stringify({ started, downloads: s.downloads })
        },
        { timeout: 60_000, interval: 200 }
      )
      .toBe('completed')
    const file = join(t.models, 'loras', 'model.safetensors')
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(FILE_SHA)
    client.close()
    after.close()
  }, 180_000)
})

describe('podpull serve on a network address', () => {
  /** Starts `serve` with these args; resolves its stderr once the page URL is printed. */
  async function serveOutput(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const t = freshComfy()
    const p = spawnCli(['serve', ...args], { PODPULL_HOME: t.home })
    let stdout = ''
    let stderr = ''
    p.stderr!.on('data', (d) => (stderr += d))
    try {
      await new Promise<void>((resolve, reject) => {
        p.stdout!.on('data', (d) => {
          stdout += d
          if (stdout.includes('PodPull dashboard:')) resolve()
        })
        p.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)))
      })
    } finally {
      p.kill('SIGTERM')
    }
    return { stdout, stderr }
  }

  it('warns that the token travels in clear text when bound to 0.0.0.0', async () => {
    const { stdout, stderr } = await serveOutput([
      '--host',
      '0.0.0.0',
      '--port',
      String(await freePort())
    ])
    expect(stdout).toContain('PodPull dashboard: http://0.0.0.0:')
    expect(stderr).toContain(
      'Warning: the dashboard listens on 0.0.0.0, reachable from the network.'
    )
    expect(stderr).toMatch(/access token .* travel unencrypted/)
  })

  it('says nothing of the kind on loopback', async () => {
    const { stderr } = await serveOutput(['--host', '127.0.0.1'])
    expect(stderr).not.toContain('Warning')
  })
})
