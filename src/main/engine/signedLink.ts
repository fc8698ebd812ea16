// A hub's resolve URL and the short-lived signed link it redirects to.
// Hugging Face (`/resolve/`) and Civitai (`/api/download/models/`) answer a
// download with a redirect to a CDN link signed for about an hour; resolve
// calls are rate-limited per account, and a Range sent on the resolve request
// can bind the link to that one range. So the resolve URL is asked without
// Range and its redirect is not followed; every range goes to the link; and
// the link is asked for again only when it is refused or has expired. The
// link lives in memory only (it is a secret), shared by the connections.
import { seconds } from './backoff'
import {
  MAX_REDIRECTS,
  redirectTarget,
  refusal,
  RetryableError,
  unreachable,
  type HttpOptions
} from './httpClient'
import { rawGet } from './rawHttp'
import { EngineError } from './types'

/** Answers from a signed link that a fresh link may cure: expired, or signed for something else. */
const REFUSED = new Set([400, 401, 403, 410])

export const isLinkRefusal = (status: number): boolean => REFUSED.has(status)

/** When a signed URL stops working, from its own query (ms since the epoch), if it says. */
export function linkExpiry(url: URL): number | null {
  const q = url.searchParams
  const epoch = q.get('Expires') ?? q.get('expires')
  if (epoch && /^\d{9,11}$/.test(epoch)) return Number(epoch) * 1000
  for (const p of ['X-Amz', 'X-Goog']) {
    const date = q.get(`${p}-Date`)
    const life = q.get(`${p}-Expires`)
    const m = date && /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(date)
    if (m && life && /^\d+$/.test(life))
      return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + Number(life) * 1000
  }
  return null
}

interface Link {
  url: URL
  expiresAt: number | null
}

export type LinkHttp = Pick<HttpOptions, 'auth' | 'authHint' | 'headersTimeoutMs'>

export class SignedLink {
  /** Resolve requests sent (for tests and the bench). */
  resolves = 0
  private link: Link | undefined
  private pending: Promise<URL> | undefined

  constructor(
    readonly resolveUrl: string,
    private readonly http: LinkHttp,
    /** The job's signal: a resolve shared by several connections outlives any one request. */
    private readonly signal: AbortSignal,
    private readonly now: () => number = Date.now
  ) {}

  /** The link to send ranges to, asked for when none is known or it has expired. */
  current(): Promise<URL> {
    const l = this.link
    return l && !this.expired(l) ? Promise.resolve(l.url) : this.refresh()
  }

  /** `stale` was refused: a new link, asked for once however many connections saw it. */
  refused(stale: URL): Promise<URL> {
    const l = this.link
    if (l && l.url.href !== stale.href && !this.expired(l)) return Promise.resolve(l.url)
    this.link = undefined
    return this.refresh()
  }

  private expired(l: Link): boolean {
    return l.expiresAt !== null && this.now() >= l.expiresAt
  }

  private refresh(): Promise<URL> {
    this.pending ??= this.resolve()
      .then((l) => {
        this.link = l
        return l.url
      })
      .finally(() => (this.pending = undefined))
    return this.pending
  }

  /** One resolve: no Range, redirects on the same host followed (a renamed repo), the first
   *  redirect elsewhere is the link; a 2xx means the URL serves the file itself. */
  private async resolve(): Promise<Link> {
    this.resolves++
    const first = new URL(this.resolveUrl)
    let at = first
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const { status, headers } = await this.ask(at)
      if (status >= 300 && status < 400 && headers.location) {
        const next = redirectTarget(headers.location, at, this.http)
        if (next.origin === at.origin) {
          at = next
          continue
        }
        return { url: next, expiresAt: linkExpiry(next) }
      }
      if (status >= 200 && status < 300) return { url: at, expiresAt: null }
      throw refusal(status, headers, at, first, { ...this.http, signal: this.signal })
    }
    throw new EngineError(
      'http',
      `Too many redirects (more than ${MAX_REDIRECTS}) from ${first.host}.`
    )
  }

  /** The head of a GET without Range; the body is never read. */
  private async ask(
    at: URL
  ): Promise<{ status: number; headers: Record<string, string | undefined> }> {
    const ms = this.http.headersTimeoutMs
    const timeout = AbortSignal.timeout(ms)
    const signal = AbortSignal.any([this.signal, timeout])
    try {
      const res = await rawGet(at, { auth: this.http.auth, signal })
      res.close()
      return { status: res.status, headers: res.headers }
    } catch (err) {
      if (this.signal.aborted) throw err
      if (timeout.aborted) throw new RetryableError(`${at.host} did not answer for ${seconds(ms)}`)
      throw unreachable(at, err)
    }
  }
}
