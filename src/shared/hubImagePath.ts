// The path preview images have on the page's own origin (app://podpull in
// Electron, `podpull serve`'s address in a browser): /hub-image/<id>, the id a
// hash of a URL main handed out in a preview. Shared by both front ends, which
// answer it, and main, which hands the paths out.
export const HUB_IMAGE_PREFIX = '/hub-image/'

export const HUB_IMAGE_ID = /^[0-9a-f]{32}$/

/** The image id a request names, or null when it is not a hub-image request
 *  (other paths, encoded tricks; a query string is ignored). */
export function imageIdFromRequest(requestUrl: string): string | null {
  if (!URL.canParse(requestUrl, 'http://x')) return null
  const { pathname } = new URL(requestUrl, 'http://x')
  if (!pathname.startsWith(HUB_IMAGE_PREFIX)) return null
  const id = pathname.slice(HUB_IMAGE_PREFIX.length)
  return HUB_IMAGE_ID.test(id) ? id : null
}
