// A flood of half-open connections (sockets that never send a request) must
// not exhaust `podpull serve`'s file descriptors nor shut out the user's page.
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServe, type ServeProcess } from '../e2e/serveProcess'
import { assertBuilt, freshComfy } from '../support/cli'
import { MAX_CONNECTIONS } from '../../src/main/headless/server'
import { waitFor } from '../support/wait'

let serve: ServeProcess
const flood: Socket[] = []

beforeAll(async () => {
  assertBuilt()
  serve = await startServe({ PODPULL_HOME: freshComfy().home })
})
afterAll(async () => {
  for (const s of flood) s.destroy()
  await serve?.stop()
})

describe('podpull serve under a flood of half-open connections', () => {
  it('keeps at most its cap of them open and still answers a real request', async () => {
    const count = MAX_CONNECTIONS * 3
    let closed = 0
    for (let i = 0; i < count; i++) {
      const s = connect(serve.port, '127.0.0.1')
      s.on('error', () => undefined)
      s.on('close', () => closed++)
      await new Promise<void>((ok) => {
        s.once('connect', ok)
        s.once('close', () => ok())
      })
      flood.push(s)
    }
    // The server closed every socket past its cap (oldest idle first).
    await waitFor(() => closed, 'the flood trimmed', { until: (n) => n >= count - MAX_CONNECTIONS })
    const res = await fetch(serve.pageUrl)
    expect(res.status).toBe(200)
    await res.text()
  })
})
