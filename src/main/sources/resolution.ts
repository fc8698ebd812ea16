// What a resolver hands back, and the HTTP bits every resolver shares.
import { request } from '../engine/undiciLazy'
import { UserError } from '../errors'

export type { Resolution, ResolvedFile } from '../../shared/types'

export interface ResolveOptions {
  auth: (url: URL) => string | undefined
  authHint: (url: URL) => string | undefined
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
}

export interface HttpAnswer {
  status: number
  headers: Record<string, string | undefined>
  body: string
}

const MAX_BODY = 8 << 20

/** One request, no redirect followed, the body read as text up to 8 MiB. */
export async function fetchOnce(
  url: string,
  opts: ResolveOptions,
  method: 'GET' | 'HEAD' = 'GET'
): Promise<HttpAnswer> {
  const u = new URL(url)
  const auth = opts.auth(u)
  const res = await request(u, {
    method,
    headers: {
      'user-agent': 'PodPull',
      accept: 'application/json',
      ...(auth ? { authorization: auth } : {})
    },
    headersTimeout: opts.timeoutMs ?? 20_000,
    bodyTimeout: opts.timeoutMs ?? 20_000
  }).catch((err: Error) => {
    throw new UserError('network', `Could not reach ${u.host}: ${err.message}`)
  })
  const headers: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v[0] : v
  let body = ''
  if (method === 'GET') {
    const chunks: Buffer[] = []
    let n = 0
    for await (const c of res.body as AsyncIterable<Buffer>) {
      n += c.length
      if (n > MAX_BODY) {
        res.body.destroy()
        throw new UserError(
          'http',
          `${u.host} sent more than 8 MiB where a short answer was expected.`
        )
      }
      chunks.push(c)
    }
    body = Buffer.concat(chunks).toString('utf8')
  } else {
    await res.body.dump().catch(() => undefined)
  }
  return { status: res.statusCode, headers, body }
}

export function parseJson<T>(a: HttpAnswer, what: string): T {
  try {
    return JSON.parse(a.body) as T
  } catch {
    throw new UserError('http', `${what} did not answer with JSON (status ${a.status}).`)
  }
}
