// URLs are shown, logged and written to the status file: none of those may
// carry a secret. Signed CDN links and Civitai's `?token=` are the usual leaks.
// Only the copy that is shown or stored is redacted: the request itself always
// uses the link as given (see pastedUrl.ts), or a presigned link would 403.

const SECRET_PARAMS = new Set([
  'token',
  'key',
  'api_key',
  'apikey',
  'access_token',
  'auth',
  'sig',
  'signature',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential'
])

export function isSecretParam(name: string): boolean {
  return SECRET_PARAMS.has(name.toLowerCase())
}

/** A raw `name=value` query part's decoded name. */
export function paramName(part: string): string {
  const raw = part.split('=', 1)[0]!.replace(/\+/g, ' ')
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

/** The query without the parts `drop` names, every other part byte for byte
 *  (a `?flag` stays `?flag`; re-encoding could break a signature). */
export function filterQuery(search: string, drop: (name: string) => boolean): string {
  const parts = search.replace(/^\?/, '').split('&')
  const kept = parts.filter((p) => p !== '' && !drop(paramName(p)))
  return kept.length ? `?${kept.join('&')}` : ''
}

/** The URL without credentials and without secret query values. The helper's
 *  `strip_secrets` gives the same string for the same link. */
export function stripSecrets(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//')
  }
  const query = filterQuery(u.search, isSecretParam)
  return `${u.protocol}//${u.host}${u.pathname}${query}${u.hash}`
}
