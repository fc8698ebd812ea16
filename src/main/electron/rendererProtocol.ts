// The renderer is served from the privileged scheme app://podpull/, never from
// file://. Chromium reports file:// senders as file:///C:/… with spaces
// percent-encoded, so comparing them with an install path locks out Windows
// users and any path with spaces or non-ASCII characters; an origin
// comparison does not depend on where PodPull is installed. Pure functions:
// the shell (index.ts) only wires them to Electron.
import { extname, posix, win32 } from 'node:path'
import { imageIdFromRequest } from '../../shared/hubImagePath'

export const APP_SCHEME = 'app'
export const APP_HOST = 'podpull'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_ENTRY = `${APP_ORIGIN}/index.html`

type PathApi = typeof posix

/**
 * The file inside `rendererDir` that `requestUrl` names, or null when the
 * URL is not ours or would leave the folder (.., encoded separators, NUL).
 */
export function resolveRendererFile(
  rendererDir: string,
  requestUrl: string,
  path: PathApi = process.platform === 'win32' ? win32 : posix
): string | null {
  let url: URL
  try {
    url = new URL(requestUrl)
  } catch {
    return null
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null
  let rel: string
  try {
    rel = decodeURIComponent(url.pathname)
  } catch {
    return null
  }
  // Separators and NUL that arrive encoded are never part of a real asset name.
  if (rel.includes('\0') || rel.includes('\\') || /%2f|%5c/i.test(url.pathname)) return null
  const parts = rel.split('/').filter((p) => p !== '')
  if (parts.some((p) => p === '..' || p === '.' || /^[A-Za-z]:/.test(p))) return null
  if (parts.length === 0) parts.push('index.html')
  const root = path.resolve(rendererDir)
  const file = path.resolve(root, ...parts)
  const inside = path.relative(root, file)
  if (!inside || inside.startsWith('..') || path.isAbsolute(inside)) return null
  return file
}

/** What an app:// request asks for: a hub preview image main fetched
 *  (/hub-image/<id>), a file of the renderer, or nothing we serve. */
export type AppRequest = { kind: 'image'; id: string } | { kind: 'file'; file: string }

export function routeAppRequest(
  rendererDir: string,
  requestUrl: string,
  path: PathApi = process.platform === 'win32' ? win32 : posix
): AppRequest | null {
  const id = isOurPage(requestUrl) ? imageIdFromRequest(requestUrl) : null
  if (id) return { kind: 'image', id }
  const file = resolveRendererFile(rendererDir, requestUrl, path)
  return file ? { kind: 'file', file } : null
}

/** Is `url` a page of ours? Our scheme and host, or the dev server's origin under `electron-vite dev`. */
export function isOurPage(url: string, devServerUrl?: string): boolean {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return false
  }
  if (devServerUrl) {
    try {
      return u.origin === new URL(devServerUrl).origin
    } catch {
      return false
    }
  }
  // URL.origin is "null" for non-special schemes, so compare the parts.
  return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && !u.username && !u.port
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff'
}

export function mimeType(file: string): string {
  return MIME[extname(file).toLowerCase()] ?? 'application/octet-stream'
}
