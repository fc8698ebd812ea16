// The dashboard has one Content-Security-Policy wherever it is loaded: the
// built page's <meta>, `podpull serve`'s header and the app:// scheme's header
// (shellChecks.checkScheme) all come from src/shared/csp.ts.
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import type { ApiHandlers } from '../../src/shared/api'
import { CSP_HEADER, CSP_META } from '../../src/shared/csp'
import { startHeadlessServer, type HeadlessServer } from '../../src/main/headless/server'

let server: HeadlessServer | undefined
afterAll(() => server?.close())

it('podpull serve sends the policy the built page carries, plus frame-ancestors', async () => {
  server = await startHeadlessServer({
    handlers: {} as ApiHandlers,
    events: new EventEmitter(),
    staticDir: join(__dirname, '../../out/renderer')
  })
  const res = await fetch(`${server.url}/`)
  const header = res.headers.get('content-security-policy')
  const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(
    await res.text()
  )?.[1]
  expect(meta).toBe(CSP_META)
  expect(header).toBe(CSP_HEADER)
  expect(header).toBe(`${meta}; frame-ancestors 'none'`)
  expect(header).not.toContain('unsafe-inline')
})
