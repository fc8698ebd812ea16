// Tokens travel only over https (or to a host the user listed), on both
// engines, and a pod gets only the one token its download's host needs.
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { authFor, tokensFor } from '../../src/main/sources/tokens'
import { IMPORT_HELPER } from '../conformance/helperDriver'

const tokens = { hf: 'hf_secret', civitai: 'civ_secret' }
const tokenOf = (k: 'hf' | 'civitai'): string => tokens[k]
const none = { hf: [], civitai: [] }

/** What the helper's Http would put in Authorization for `url` (a real helper import). */
function helperAuth(url: string, tokenHosts: Record<string, string[]> = {}): string | null {
  const py =
    IMPORT_HELPER +
    'import json\n' +
    'from podpull_helper import httpclient as h\n' +
    'a=json.loads(sys.argv[1])\n' +
    'print(json.dumps(h.Http(a["url"], a["tokens"], a["hosts"], 5).auth_for(a["url"])))'
  const arg = JSON.stringify({ url, tokens, hosts: tokenHosts })
  return JSON.parse(
    execFileSync('python3', ['-B', '-I', '-S', '-c', py, arg], { encoding: 'utf8' })
  )
}

describe('tokens only over https', () => {
  it('the TypeScript engine sends no token to http:// Hugging Face or Civitai', () => {
    expect(authFor(new URL('http://huggingface.co/a/b/resolve/main/x'), tokenOf, {})).toBe(
      undefined
    )
    expect(authFor(new URL('http://civitai.com/api/download/models/1'), tokenOf, {})).toBe(
      undefined
    )
    expect(authFor(new URL('https://huggingface.co/a/b/resolve/main/x'), tokenOf, {})).toBe(
      'Bearer hf_secret'
    )
  })

  it('the TypeScript engine sends it over http to a host the user listed', () => {
    const env = { PODPULL_HF_HOSTS: 'mirror.lan, 127.0.0.1:8080' }
    expect(authFor(new URL('http://mirror.lan/x'), tokenOf, env)).toBe('Bearer hf_secret')
    expect(authFor(new URL('http://127.0.0.1:8080/x'), tokenOf, env)).toBe('Bearer hf_secret')
    expect(authFor(new URL('http://127.0.0.1:9090/x'), tokenOf, env)).toBeUndefined()
  })

  it('the pod helper sends no token to http:// Hugging Face or Civitai', () => {
    expect(helperAuth('http://huggingface.co/a/b/resolve/main/x')).toBeNull()
    expect(helperAuth('http://civitai.com/api/download/models/1')).toBeNull()
    expect(helperAuth('https://huggingface.co/a/b/resolve/main/x')).toBe('Bearer hf_secret')
    expect(helperAuth('https://civitai.com/api/download/models/1')).toBe('Bearer civ_secret')
  })

  it('the pod helper sends it over http to a host the user listed', () => {
    expect(helperAuth('http://mirror.lan/x', { hf: ['mirror.lan'] })).toBe('Bearer hf_secret')
    expect(helperAuth('http://127.0.0.1:8080/x', { civitai: ['127.0.0.1:8080'] })).toBe(
      'Bearer civ_secret'
    )
  })
})

describe('a pod gets only the token its download needs', () => {
  it('sends the Hugging Face token alone for a Hugging Face link', () => {
    expect(tokensFor('https://huggingface.co/a/b/resolve/main/x', tokens, none)).toEqual({
      hf: 'hf_secret'
    })
  })
  it('sends the Civitai token alone for a Civitai link', () => {
    expect(tokensFor('https://civitai.com/api/download/models/1', tokens, none)).toEqual({
      civitai: 'civ_secret'
    })
  })
  it('sends none for any other host, plain http, or no known URL', () => {
    expect(tokensFor('https://example.com/x', tokens, none)).toEqual({})
    expect(tokensFor('https://cdn-lfs.huggingface.co/x', tokens, none)).toEqual({})
    expect(tokensFor('http://huggingface.co/x', tokens, none)).toEqual({})
    expect(tokensFor(undefined, tokens, none)).toEqual({})
    expect(tokensFor('not a url', tokens, none)).toEqual({})
  })
  it('sends the token of a listed mirror, over http too', () => {
    const extra = { hf: [], civitai: ['127.0.0.1:9000'] }
    expect(tokensFor('http://127.0.0.1:9000/x', tokens, extra)).toEqual({ civitai: 'civ_secret' })
  })
})
