// When to try a failed request again: exponential backoff, or what the server
// asked for with Retry-After (429/503).

export const MAX_BACKOFF_MS = 30_000

/** Delay before attempt `failures + 1`: base, doubled per failure, capped at 30 s. */
export function backoffMs(failures: number, baseMs: number): number {
  return Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, failures - 1))
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date), or undefined if absent/invalid. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * The wait the IETF RateLimit header asks for: `"resolvers";r=0;t=2` (several
 * policies comma-separated) means none left for 2 s; the longest wait among
 * the exhausted policies counts. The older `RateLimit-Reset: 2` too.
 */
export function rateLimitWaitMs(
  rateLimit: string | undefined,
  reset?: string | undefined
): number | undefined {
  let wait: number | undefined
  for (const item of (rateLimit ?? '').split(',')) {
    const params = new Map(
      item
        .split(';')
        .slice(1)
        .map((p) => p.split('=').map((x) => x.trim()) as [string, string])
    )
    const r = params.get('r')
    const t = params.get('t')
    if (r === '0' && t && /^\d+$/.test(t)) wait = Math.max(wait ?? 0, Number(t) * 1000)
  }
  if (wait === undefined && reset && /^\s*\d+\s*$/.test(reset)) wait = Number(reset) * 1000
  return wait
}

/** What a refusing server asked for: Retry-After, else its RateLimit header. */
export function serverWaitMs(h: Record<string, string | undefined>): number | undefined {
  return retryAfterMs(h['retry-after']) ?? rateLimitWaitMs(h.ratelimit, h['ratelimit-reset'])
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** A duration for messages: "60 s", "0.2 s". */
export const seconds = (ms: number): string =>
  `${ms >= 10_000 ? Math.round(ms / 1000) : Math.round(ms / 100) / 10} s`
