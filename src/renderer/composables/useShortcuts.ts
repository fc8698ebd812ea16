// Dashboard-wide keys, heard on the window: Ctrl/Cmd+L goes to the link box
// and `/` to search. `/` is ignored while typing, so it can still be typed
// into a field; open dialogs keep their own keys (they answer Escape).
import { onBeforeUnmount, onMounted } from 'vue'

export interface Shortcuts {
  focusLink: () => void
  focusSearch: () => void
}

function typing(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)
}

function inDialog(): boolean {
  return document.querySelector('[role="dialog"][aria-modal="true"]') !== null
}

export function useShortcuts(s: Shortcuts): void {
  function onKeydown(e: KeyboardEvent): void {
    if (e.defaultPrevented || inDialog()) return
    const mod = e.ctrlKey || e.metaKey
    if (mod && !e.altKey && e.key.toLowerCase() === 'l') {
      e.preventDefault()
      s.focusLink()
    } else if (e.key === '/' && !mod && !e.altKey && !typing(e.target)) {
      e.preventDefault()
      s.focusSearch()
    }
  }
  onMounted(() => window.addEventListener('keydown', onKeydown))
  onBeforeUnmount(() => window.removeEventListener('keydown', onKeydown))
}
