// Answers a well-behaved server never sends, written by hand on a raw TCP
// socket: the engine refuses them instead of guessing (a conflicting
// Content-Length must not turn a cut file into a "completed" one; a header
// value with a bare LF must not become a header PodPull sends back later).
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDownload } from '../../src/main/engine/download'
import { parseHead } from '../../src/main/engine/rawHttp'
import { startRawAnswerServer as rawServer } from '../harness/rawAnswerServer'

let dir: string
let n = 0
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podpull-strict-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function download(url: string) {
  const finalPath = join(dir, `m${n++}.safetensors`)
  const result = runDownload(
    { id: 'feedfacecafebeef', url, finalPath, connections: 1 },
    {
      signal: new AbortController().signal,
      onProgress: () => undefined,
      auth: () => undefined,
      retryBaseMs: 10,
      maxAttempts: 3,
      stallTimeoutMs: 2000
    }
  )
  return { finalPath, result }
}

const body = (n: number): string => 'x'.repeat(n)

describe('strict HTTP on the engine', () => {
  it('refuses Content-Length headers that disagree (no cut file saved as completed)', async () => {
    const srv = await rawServer([
      `HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Length: 200\r\n\r\n${body(100)}`
    ])
    try {
      const { finalPath, result } = download(srv.url)
      await expect(result).rejects.toThrow(
        /malformed answer \(Content-Length headers that disagree/
      )
      expect(existsSync(finalPath)).toBe(false)
    } finally {
      await srv.close()
    }
  })

  it('refuses a header value with a bare LF, and never sends it back on a resume', async () => {
    const evil = `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/100\r\nETag: "v1"\nX-Injected: 1\r\nContent-Length: 100\r\n\r\n${body(50)}`
    const srv = await rawServer([evil])
    try {
      const { result } = download(srv.url)
      await expect(result).rejects.toThrow(/malformed answer \(a header carries a bare CR or LF/)
      expect(srv.heads.some((h) => /^x-injected/im.test(h))).toBe(false)
    } finally {
      await srv.close()
    }
  })

  it('accepts a repeated Content-Length that agrees (RFC 9110), as before', () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7'
    expect(parseHead(head)?.headers['content-length']).toBe('7')
  })

  it.each([
    ['a bare CR', 'HTTP/1.1 200 OK\r\nETag: "a"\rX: 1\r\nContent-Length: 1'],
    ['a negative length', 'HTTP/1.1 200 OK\r\nContent-Length: -5'],
    ['a folded line', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n X: folded'],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 1']
  ])('refuses %s', (_, head) => {
    expect(() => parseHead(head)).toThrow(/malformed response/)
  })
})
