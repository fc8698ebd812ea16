// The one polling wait of the test suites (unit, integration, e2e helpers):
// resolves with what `get` returns once it is truthy (or passes `until`), or
// fails naming what it waited for and the last value seen. It waits on state,
// never on the clock: the timeout only bounds a test that is already failing.
export interface WaitOptions<T> {
  /** Accept the value when this returns true (default: the value is truthy). */
  until?: (v: T) => boolean
  /** Give up after this long (default 20 s). */
  ms?: number
}

export async function waitFor<T>(
  get: () => T | Promise<T>,
  what: string,
  opts: number | WaitOptions<T> = {}
): Promise<NonNullable<T>> {
  const o = typeof opts === 'number' ? { ms: opts } : opts
  const ms = o.ms ?? 20_000
  const end = Date.now() + ms
  for (;;) {
    const v = await get()
    if (o.until ? o.until(v) : v) return v as NonNullable<T>
    if (Date.now() > end)
      throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${show(v)}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

function show(v: unknown): string {
  try {
    return (JSON.stringify(v) ?? String(v)).slice(0, 300)
  } catch {
    return String(v)
  }
}
