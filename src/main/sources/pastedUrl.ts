// What a pasted link becomes: the URL we request (exactly as given, so signed
// S3 / R2 / GCS / Azure links keep their signature), the URL we show and store
// (no secrets), and a token pasted into the query (Civitai's `?token=`), which
// travels as an Authorization header to that host only.
import { UserError } from '../errors'
import { filterQuery, stripSecrets } from './urlSafety'

const TOKEN_PARAMS = new Set(['token', 'api_key'])

export interface PastedUrl {
  /** The link as the user gave it: kept only in memory and in the 0600 sidecar. */
  given: string
  /** What is requested: the link as given minus a token moved into a header. */
  fetch: string
  /** What is shown, logged and stored: no secrets. */
  shown: string
  /** The token pasted in the query: for this scheme and host only (never sent
   *  over plain http when it was pasted in an https link). */
  urlToken?: { host: string; protocol: string; auth: string }
}

export function parsePastedUrl(pasted: string): PastedUrl {
  const u = URL.canParse(pasted) ? new URL(pasted) : undefined
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
    throw new UserError('bad-request', 'The address must be an http(s) URL.')
  const token = [...TOKEN_PARAMS].map((p) => u.searchParams.get(p)).find((t) => t)
  const shown = stripSecrets(pasted)
  if (!token) return { given: pasted, fetch: pasted, shown }
  const query = filterQuery(u.search, (n) => TOKEN_PARAMS.has(n.toLowerCase()))
  const fetch = `${u.protocol}//${u.username ? `${u.username}:${u.password}@` : ''}${u.host}${u.pathname}${query}${u.hash}`
  return {
    given: pasted,
    fetch,
    shown,
    urlToken: { host: u.host, protocol: u.protocol, auth: `Bearer ${token}` }
  }
}
