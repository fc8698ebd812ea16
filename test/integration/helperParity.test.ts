// The two engines judge links and bodies alike: the same redacted URL (the
// status file is shared by both), the same HTML and login-wall detection. Both
// read one table, test/vectors/links.json: ours in this process, the helper's
// functions in a real python3 on the package the pod runs.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isHtmlType, looksLikeHtml, looksLikeLoginUrl } from '../../src/main/engine/httpClient'
import { stripSecrets } from '../../src/main/sources/urlSafety'
import { IMPORT_HELPER } from '../conformance/helperDriver'

interface Vector<T> {
  in: string
  out: T
}
const vectors = JSON.parse(readFileSync(join(__dirname, '../vectors/links.json'), 'utf8')) as {
  redacted: Vector<string>[]
  htmlContentType: Vector<boolean>[]
  htmlBody: Vector<boolean>[]
  loginUrl: Vector<boolean>[]
}

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

/** Both engines give every vector's `out`. */
function agree<T>(
  table: Vector<T>[],
  ours: (input: string) => T,
  helperFn: string,
  asBytes = false
): void {
  const want = table.map((v) => v.out)
  expect(table.map((v) => ours(v.in))).toEqual(want)
  expect(
    python(
      helperFn,
      table.map((v) => v.in),
      asBytes
    )
  ).toEqual(want)
}

describe('the helper and the app agree (test/vectors/links.json)', () => {
  it('on the URL stored for a link: secrets out, everything else byte for byte', () => {
    agree(vectors.redacted, stripSecrets, 'urls.strip_secrets')
  })

  it('on what counts as a web page: content types (xhtml too) and first bytes', () => {
    agree(vectors.htmlContentType, isHtmlType, 'httpclient.is_html_type')
    agree(
      vectors.htmlBody,
      (b) => looksLikeHtml(Buffer.from(b, 'latin1')),
      'httpclient.looks_like_html',
      true
    )
  })

  it('on login walls behind a redirect', () => {
    agree(vectors.loginUrl, (u) => looksLikeLoginUrl(new URL(u)), 'httpclient.login_url')
  })
})
