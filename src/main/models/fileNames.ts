// File names come from servers (Content-Disposition) and URLs: both are
// untrusted. What reaches the disk is a plain base name, or nothing.
import contentDisposition from 'content-disposition'
import { UserError } from '../errors'

const MAX_BYTES = 255

/** A plain, safe base name, or a UserError when nothing usable is left. */
export function sanitizeFilename(name: string): string {
  // Only the last path component, whichever separator the server used.
  let base = name.split(/[/\\]/).pop() ?? ''
  base = base
    // eslint-disable-next-line no-control-regex -- control characters are exactly what we strip
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '')
    .replace(/^[\s.]+/, '')
    .replace(/\s+$/, '')
  while (Buffer.byteLength(base) > MAX_BYTES) {
    const dot = base.lastIndexOf('.')
    const ext = dot > 0 && base.length - dot <= 16 ? base.slice(dot) : ''
    base = base.slice(0, Math.max(1, base.length - ext.length - 1)) + ext
  }
  if (!base || base === '.' || base === '..') {
    throw new UserError(
      'unsafe-path',
      `"${name.slice(0, 80)}" is not a usable file name; choose one with the file name field (--filename).`
    )
  }
  return base
}

/** The server's suggested name (Content-Disposition), else the URL's last segment. */
export function filenameFrom(disposition: string | null | undefined, url: string): string {
  if (disposition) {
    try {
      const parsed = contentDisposition.parse(disposition)
      const n = parsed.parameters['filename*'] ?? parsed.parameters.filename
      if (n) return sanitizeFilename(n)
    } catch {
      // A malformed header: fall back to a loose read of filename=.
      const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)
      if (m?.[1]) return sanitizeFilename(safeDecode(m[1]))
    }
  }
  const last = new URL(url).pathname.split('/').filter(Boolean).pop() ?? ''
  return sanitizeFilename(safeDecode(last))
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
