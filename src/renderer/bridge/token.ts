// The headless server's per-run token arrives in the page address (?token=…).
// We take it out of the address bar (so it is not shared by copy-paste or kept
// in history) but keep it for this tab so a reload still connects.
const KEY = 'podpull.token'

export function takeToken(
  loc: Location = window.location,
  store: Storage = sessionStorage
): string | null {
  const params = new URLSearchParams(loc.search)
  const fromUrl = params.get('token')
  if (fromUrl) {
    store.setItem(KEY, fromUrl)
    params.delete('token')
    const rest = params.toString()
    window.history.replaceState(null, '', `${loc.pathname}${rest ? `?${rest}` : ''}${loc.hash}`)
    return fromUrl
  }
  return store.getItem(KEY)
}

/** ws(s)://<host>/api?token=… for the page's own origin. */
export function apiSocketUrl(loc: Location, token: string | null): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${scheme}//${loc.host}/api?token=${encodeURIComponent(token ?? '')}`
}
