// A clock for relative times ("last seen 5 min ago") that must age while
// nothing else changes. Coarse on purpose: re-rendering costs more than it tells.
import { onBeforeUnmount, ref, type Ref } from 'vue'

export function useNow(everyMs = 15_000): Ref<number> {
  const now = ref(Date.now())
  const timer = setInterval(() => (now.value = Date.now()), everyMs)
  onBeforeUnmount(() => clearInterval(timer))
  return now
}
