// File names come from servers (Content-Disposition) and URLs: both are
// untrusted. What reaches the disk is a plain base name, or nothing.
import contentDisposition from 'content-disposition'
import { plainText } from '../../shared/plainText'
import { UserError } from '../errors'

/** What a name on disk gets beside it: the longest is the sidecar's temp file
 *  while it is replaced, `<name>.part.json.tmp-<pid>-<8 hex>` (pids run to 7
 *  digits), and it must fit the file system's 255 bytes too. */
const LONGEST_SUFFIX = '.part.json.tmp-4194304-ffffffff'
const MAX_BYTES = 255 - LONGEST_SUFFIX.length
/** An extension this long or shorter is kept when a name is shortened. */
const MAX_EXT = 16

/** Characters Windows refuses in a name (controls go with plainText). */
const WINDOWS_REFUSED = /[<>:"|?*]/g
/** Device names Windows reserves whatever the extension (CON, aux.safetensors, COM1.txt). */
const WINDOWS_RESERVED =
  /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])(\.|$)/i

/** A plain, safe base name, or a UserError when nothing usable is left. The
 *  helper's sanitize_filename does the same (test/vectors/filenames.json). */
export function sanitizeFilename(name: string): string {
  // Only the last path component, whichever separator the server used.
  let base = name.split(/[/\\]/).pop() ?? ''
  // Controls and bidi controls go too: U+202E shows "x\u202Egpj.exe" as "xexe.jpg".
  base = plainText(base, { oneLine: true })
    .replace(WINDOWS_REFUSED, '')
    .replace(/^[\s.]+/, '')
    // Windows drops trailing dots and spaces: "x.safetensors." would become another name.
    .replace(/[\s.]+$/, '')
  if (WINDOWS_RESERVED.test(base)) base = `_${base}`
  base = fitBytes(base)
  if (!base || base === '.' || base === '..') {
    throw new UserError(
      'unsafe-path',
      `"${name.slice(0, 80)}" is not a usable file name; choose one with the file name field (--filename).`
    )
  }
  return base
}

/** Shortens a name to MAX_BYTES of UTF-8, keeping its extension, never splitting a character. */
function fitBytes(base: string): string {
  if (Buffer.byteLength(base) <= MAX_BYTES) return base
  const dot = base.lastIndexOf('.')
  const ext = dot > 0 && base.length - dot <= MAX_EXT ? base.slice(dot) : ''
  const stem = [...base.slice(0, base.length - ext.length)]
  let bytes = Buffer.byteLength(stem.join('')) + Buffer.byteLength(ext)
  while (stem.length > 1 && bytes > MAX_BYTES) bytes -= Buffer.byteLength(stem.pop()!)
  return stem.join('') + ext
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
