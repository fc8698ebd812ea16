// The one polling wait of the test suites: resolves with the first truthy value
// `get` returns, or fails naming what it waited for. Waits on state, never on
// the clock (the timeout only bounds a test that is already failing).
export async function waitFor<T>(
  get: () => T | undefined | false | null | 0 | '' | Promise<T | undefined | false | null | 0 | ''>,
  what: string,
  ms = 20_000
): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await get()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
