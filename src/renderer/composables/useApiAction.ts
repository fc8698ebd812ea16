// One way for a component to call main: `run(() => api.x(…))` clears the last
// message, tracks that a call is under way, and turns a refusal into the one
// line main sent (its `message`), so every panel reports errors alike.
import { computed, ref, type ComputedRef, type Ref } from 'vue'

export interface ApiAction {
  /** A call is under way. */
  busy: ComputedRef<boolean>
  /** Main's message for the last call that failed; cleared when the next one starts. */
  error: Ref<string | null>
  /** What the last call that succeeded wants to tell the user, if anything. */
  info: Ref<string | null>
  /** Runs one call; resolves its result, or undefined when it failed (or, with
   *  `exclusive`, when another call was already running). Never rejects. */
  run<T>(
    fn: () => Promise<T>,
    opts?: { done?: string; exclusive?: boolean }
  ): Promise<T | undefined>
}

export function useApiAction(): ApiAction {
  const pending = ref(0)
  const error = ref<string | null>(null)
  const info = ref<string | null>(null)
  const busy = computed(() => pending.value > 0)

  async function run<T>(
    fn: () => Promise<T>,
    opts: { done?: string; exclusive?: boolean } = {}
  ): Promise<T | undefined> {
    if (opts.exclusive && busy.value) return undefined
    pending.value++
    error.value = null
    info.value = null
    try {
      const v = await fn()
      if (opts.done) info.value = opts.done
      return v
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err)
      return undefined
    } finally {
      pending.value--
    }
  }
  return { busy, error, info, run }
}
