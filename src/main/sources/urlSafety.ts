// URLs are shown, logged and written to the status file: none of those may
// carry a secret. Signed CDN links and Civitai's `?token=` are the usual leaks.

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

/** The URL without credentials and without secret query values. */
export function stripSecrets(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//')
  }
  u.username = ''
  u.password = ''
  for (const name of [...u.searchParams.keys()])
    if (isSecretParam(name)) u.searchParams.delete(name)
  return u.toString()
}

/** Splits a pasted URL into the secret-free URL and a token found in its query
 *  (Civitai users paste `…?token=abc`): the token then travels as a header, only
 *  to that host, and the URL is safe to store. */
export function splitUrlToken(url: string): { url: string; token?: string } {
  const u = new URL(url)
  const token = u.searchParams.get('token') ?? u.searchParams.get('api_key') ?? undefined
  return { url: stripSecrets(url), ...(token ? { token } : {}) }
}
