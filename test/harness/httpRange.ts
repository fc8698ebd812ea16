// Range / If-Range / ETag rules of the loopback model server (RFC 9110 §13, §14).

export type RangeAnswer =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number } // end inclusive, as on the wire
  | { kind: 'unsatisfiable' }

/** One `bytes=` range against a body of `size` bytes. Anything we don't
 *  understand (several ranges, another unit, garbage) gets the full body,
 *  which a server is allowed to do. */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (!header) return { kind: 'full' }
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' }
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (start >= size) return { kind: 'unsatisfiable' }
  if (end < start) return { kind: 'full' }
  return { kind: 'partial', start, end }
}

/** The ETag header value: the default is strong `"<seed>-<size>"`; a bare
 *  value gets quoted; weak adds `W/`. */
export function etagValue(
  etag: string | null | undefined,
  weak: boolean | undefined,
  seed: string,
  size: number
): string | null {
  if (etag === null) return null
  let v = etag ?? `"${seed}-${size}"`
  if (!v.startsWith('"') && !v.startsWith('W/"')) v = `"${v}"`
  if (weak && !v.startsWith('W/')) v = `W/${v}`
  return v
}

/** Whether an If-Range precondition lets the range through. A weak ETag
 *  never matches (RFC 9110 §13.1.5), a date must equal Last-Modified. */
export function ifRangeMatches(
  ifRange: string | undefined,
  etag: string | null,
  lastModified: string | null
): boolean {
  if (ifRange === undefined) return true
  const v = ifRange.trim()
  if (v.startsWith('"') || v.startsWith('W/"')) {
    return etag !== null && !etag.startsWith('W/') && v === etag
  }
  return lastModified !== null && v === lastModified
}
