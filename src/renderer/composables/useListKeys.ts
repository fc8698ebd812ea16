// Arrow keys, Home and End move the focus between the items of a list (a
// folder tree, a table's rows, a column of cards): one Tab stop for the whole
// list, as desktop apps do. Items are found by a selector inside the list.
export function moveFocus(e: KeyboardEvent, list: HTMLElement | null, selector: string): void {
  if (!list) return
  const items = [...list.querySelectorAll<HTMLElement>(selector)]
  const at = items.indexOf(document.activeElement as HTMLElement)
  if (at < 0) return
  const next =
    e.key === 'ArrowDown'
      ? Math.min(at + 1, items.length - 1)
      : e.key === 'ArrowUp'
        ? Math.max(at - 1, 0)
        : e.key === 'Home'
          ? 0
          : e.key === 'End'
            ? items.length - 1
            : -1
  if (next < 0) return
  e.preventDefault()
  items[next]?.focus()
}
