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
