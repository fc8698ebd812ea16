// The two engines judge links and bodies alike: the same redacted URL (the
// status file is shared by both), the same HTML and login-wall detection. The
// helper's functions run in a real python3 on the same table as ours.
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { isHtmlType, looksLikeHtml, looksLikeLoginUrl } from '../../src/main/engine/httpClient'
import { stripSecrets } from '../../src/main/sources/urlSafety'
import { IMPORT_HELPER } from '../conformance/helperDriver'

/** Calls helper function `fn` on each input in one python3 run. */
function python(fn: string, inputs: unknown[], asBytes = false): unknown[] {
  const script = [
    IMPORT_HELPER + 'import json',
    'from podpull_helper import httpclient, urls',
    'args = json.load(sys.stdin)',
    asBytes
      ? `print(json.dumps([${fn}(a.encode("latin-1")) for a in args]))`
      : `print(json.dumps([${fn}(a) for a in args]))`
  ].join('\n')
  const out = execFileSync('python3', ['-I', '-S', '-c', script], { input: JSON.stringify(inputs) })
  return JSON.parse(out.toString()) as unknown[]
}

describe('the helper and the app agree', () => {
  it('on the URL stored for a link: secrets out, everything else byte for byte', () => {
    const urls = [
      'https://h.example/f.safetensors?flag',
      'https://h.example/f?flag&sig=abc&keep=1',
      'https://u:p@h.example/f?X-Amz-Signature=s&X-Amz-Credential=c&X-Amz-Date=1',
      'https://h.example/f?a=b%2Fc&Signature=x%2By&Key-Pair-Id=k',
      'https://civitai.com/api/download/models/1?type=Model&format=SafeTensor&token=abc',
      'https://h.example/f?se=2026&sp=r&sv=2022&sr=b&sig=AbC%3D',
      'http://127.0.0.1:8080/p?x=1#frag',
      'https://h.example/f?token',
      'https://h.example/f?key=v&auth=w&apikey=z'
    ]
    const ours = urls.map(stripSecrets)
    expect(python('urls.strip_secrets', urls)).toEqual(ours)
    expect(ours[0]).toBe('https://h.example/f.safetensors?flag')
    expect(ours[1]).toBe('https://h.example/f?flag&keep=1')
    expect(ours[2]).toBe('https://h.example/f?X-Amz-Date=1')
  })

  it('on what counts as a web page: content types (xhtml too) and first bytes', () => {
    const types = [
      'text/html',
      'text/html; charset=utf-8',
      ' TEXT/HTML',
      'application/xhtml+xml',
      'application/xhtml+xml; charset=utf-8',
      'application/octet-stream',
      'text/plain',
      'application/json',
      ''
    ]
    expect(python('httpclient.is_html_type', types)).toEqual(types.map((t) => isHtmlType(t)))
    expect(types.map((t) => isHtmlType(t))).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false
    ])
    const bodies = [
      '<!DOCTYPE html><html>',
      '  \n<html lang="en">',
      '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0',
      '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">',
      '<?xml version="1.0"?><model/>',
      '\u0000\u0001safetensors header',
      '{"__metadata__": {}}'
    ]
    const ourBodies = bodies.map((b) => looksLikeHtml(Buffer.from(b, 'latin1')))
    expect(python('httpclient.looks_like_html', bodies, true)).toEqual(ourBodies)
    expect(ourBodies).toEqual([true, true, true, true, false, false, false])
  })

  it('on login walls behind a redirect', () => {
    const urls = [
      'https://civitai.com/login?reason=download-auth&returnUrl=%2Fmodels%2F1',
      'https://civitai.com/x?reason=download-auth',
      'https://civitai.com/x?reason=download-authx',
      'https://civitai.com/LOGIN/',
      'https://civitai.com/login-help',
      'https://cdn.example/file.safetensors?X-Amz-Signature=1'
    ]
    const ours = urls.map((u) => looksLikeLoginUrl(new URL(u)))
    expect(python('httpclient.login_url', urls)).toEqual(ours)
    expect(ours).toEqual([true, true, false, true, false, false])
  })
})
