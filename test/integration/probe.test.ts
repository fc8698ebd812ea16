// The preview a user sees before starting: name, size, folder; and the clear
// errors for pages that are not models. Against the real loopback server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { probeUrl } from '../../src/main/sources/probe'
import { authFor, authHint } from '../../src/main/sources/tokens'

let srv: ModelServer
let env: NodeJS.ProcessEnv
const opts = (token?: string) => ({
  auth: (u: URL) => authFor(u, () => token, env),
  authHint: (u: URL) => authHint(u, env)
})

beforeAll(async () => {
  srv = await startModelServer()
  // The primary host plays Civitai: it gets the Civitai token, the second host plays the CDN.
  env = { PODPULL_CIVITAI_HOSTS: new URL(srv.url).host }
})
afterAll(() => srv.close())

describe('probeUrl', () => {
  it('reads size and a hostile Content-Disposition name safely, without fetching the body', async () => {
    const f = srv.addFile('/p/api/download/models/1', {
      size: 5 << 20,
      contentDisposition: 'attachment; filename="../../my_lora_v2.safetensors"'
    })
    const p = await probeUrl(f.url, opts())
    expect(p).toMatchObject({
      filename: 'my_lora_v2.safetensors',
      size: 5 << 20,
      suggestedFolder: 'loras',
      acceptsRanges: true
    })
    expect(srv.bytesServed(f.path)).toBeLessThan(64 << 10)
  })

  it('follows a redirect to the CDN without carrying the token there', async () => {
    const f = srv.addFile('/p/redirected.safetensors', {
      size: 1 << 20,
      redirectToSecond: true,
      requireToken: 'civ'
    })
    const p = await probeUrl(f.url, opts('civ'))
    expect(p.size).toBe(1 << 20)
    expect(p.finalUrl.startsWith(srv.secondUrl)).toBe(true)
    const hops = srv.requestsFor(f.path)
    expect(hops.find((r) => r.host === 'primary')?.headers.authorization).toBe('Bearer civ')
    expect(hops.filter((r) => r.host === 'second').every((r) => !r.headers.authorization)).toBe(
      true
    )
  })

  it('401 names the missing token', async () => {
    const f = srv.addFile('/p/gated.safetensors', { size: 1024, requireToken: 'civ' })
    await expect(probeUrl(f.url, opts())).rejects.toMatchObject({
      code: 'auth',
      message: expect.stringMatching(/CIVITAI_API_TOKEN/)
    })
  })

  it('an HTML login page or a download-auth redirect is an error, not a model', async () => {
    const page = srv.addFile('/p/login-page.safetensors', { size: 1024, htmlLogin: true })
    await expect(probeUrl(page.url, opts())).rejects.toMatchObject({ code: 'html' })
    const bounce = srv.addFile('/p/bounce.safetensors', { size: 1024, authRedirect: true })
    await expect(probeUrl(bounce.url, opts())).rejects.toMatchObject({
      code: 'html',
      message: expect.stringMatching(/token/i)
    })
  })

  it('404 and unreachable hosts say so', async () => {
    await expect(probeUrl(`${srv.url}/nothing-here.bin`, opts())).rejects.toMatchObject({
      code: 'http',
      message: expect.stringMatching(/404/)
    })
    await expect(probeUrl('http://127.0.0.1:1/x.bin', opts())).rejects.toMatchObject({
      code: 'network'
    })
  })
})
