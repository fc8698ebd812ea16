// How long to wait before trying again, and what the user sees meanwhile.
// A server's own answer wins (Retry-After, or the IETF RateLimit header that
// Hugging Face sends on a 429: `"resolvers";r=0;t=2`), else exponential
// backoff. A wait longer than the cap is not slept through (a day's
// Retry-After, or a value past what a timer can hold): the download stops,
// kept, with a sentence saying when to resume.
import { backoffMs, seconds, sleep } from './backoff'
import { RetryableError } from './httpClient'
import { EngineError } from './types'

/** The longest single wait (5 min: Hugging Face's rate-limit window). */
export const MAX_WAIT_MS = 300_000

/** A server asked for a wait past the cap: the download stops, resumable, instead of sleeping. */
export class WaitTooLong extends EngineError {
  constructor(host: string, ms: number) {
    super(
      'http',
      `${host} asks to wait ${longDuration(ms)} before going on (rate limit): the download is paused; resume it later.`,
      true
    )
    this.name = 'WaitTooLong'
  }
}

export interface WaitPolicy {
  retryBaseMs: number
  maxWaitMs: number
  /** What the row and the CLI show while waiting (null: nothing). */
  notice: (text: string | null) => void
}

/** Sleeps before attempt `failures + 1` after `err`; throws WaitTooLong past the cap. */
export async function waitToRetry(
  err: unknown,
  failures: number,
  policy: WaitPolicy,
  signal: AbortSignal
): Promise<void> {
  const asked = err instanceof RetryableError ? err.retryAfterMs : undefined
  if (asked === undefined) return sleep(backoffMs(failures, policy.retryBaseMs), signal)
  const host = (err as RetryableError).host ?? 'the server'
  if (asked > policy.maxWaitMs) throw new WaitTooLong(host, asked)
  const limited = (err as RetryableError).status === 429
  policy.notice(
    limited
      ? `rate-limited by ${host}, going on in ${seconds(asked)}`
      : `${host} is busy, going on in ${seconds(asked)}`
  )
  try {
    await sleep(asked, signal)
  } finally {
    policy.notice(null)
  }
}

function longDuration(ms: number): string {
  const s = ms / 1000
  if (s < 120) return `${Math.round(s)} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${Math.round(s / 3600)} h`
}
