// What a pasted link becomes: the URL we request, exactly as given, and the URL
// we show and store (no secrets). Both engines request the link as given:
// presigned S3 / R2 / GCS / Azure links are signed over their query, signed CDN
// links (Bunny, Akamai) carry their signature in a `token=` value, and Civitai
// reads its `?token=` there too, so no query value is moved or dropped.
import { UserError } from '../errors'
import { stripSecrets } from './urlSafety'

const TOKEN_PARAMS = ['token', 'api_key']

export interface PastedUrl {
  /** The link as the user gave it, and what is requested: kept only in memory
   *  and in the 0600 sidecar. */
  given: string
  /** What is shown, logged and stored: no secrets. */
  shown: string
}

export function parsePastedUrl(pasted: string): PastedUrl {
  const u = URL.canParse(pasted) ? new URL(pasted) : undefined
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
    throw new UserError('bad-request', 'The address must be an http(s) URL.')
  return { given: pasted, shown: stripSecrets(pasted) }
}

/** A token pasted in a hub link's query (Civitai's `?token=`): what a resolver
 *  sends as a header on its own API calls to that hub. */
export function pastedToken(pasted: string): string | undefined {
  if (!URL.canParse(pasted)) return undefined
  const q = new URL(pasted).searchParams
  return TOKEN_PARAMS.map((p) => q.get(p)).find((t) => t) ?? undefined
}
