// Splits a file into byte ranges for several connections, and re-splits the
// largest unfinished range when a connection runs out of work (aria2-style
// work stealing), so a slow tail never leaves the other connections idle.

/** A byte range [start, end) of the file; `done` bytes from `start` are on disk. */
export interface Segment {
  start: number
  end: number
  done: number
}

/** Ranges are cut on this boundary so writes stay page- and block-aligned. */
export const SEGMENT_ALIGN = 64 * 1024
/** Below this a range is not worth its own connection (request latency dominates). */
export const MIN_SEGMENT = 1024 * 1024

const alignDown = (n: number): number => n - (n % SEGMENT_ALIGN)

/** Equal ranges covering [0, size) without gaps: at most `connections`, none under `minSegment`. */
export function planSegments(
  size: number,
  connections: number,
  minSegment = MIN_SEGMENT
): Segment[] {
  const wanted = Math.max(1, Math.min(Math.floor(connections), Math.floor(size / minSegment)))
  const segments: Segment[] = []
  let start = 0
  for (let i = 1; i <= wanted; i++) {
    const end = i === wanted ? size : Math.max(start, alignDown(Math.floor((size * i) / wanted)))
    if (end > start || i === wanted) segments.push({ start, end, done: 0 })
    start = end
  }
  return segments
}

export const remaining = (s: Segment): number => s.end - s.start - s.done

/** Whether every range is fully on disk. */
export const allDone = (segments: readonly Segment[]): boolean =>
  segments.every((s) => remaining(s) === 0)

/** Bytes on disk across all ranges. */
export const doneBytes = (segments: readonly Segment[]): number =>
  segments.reduce((n, s) => n + s.done, 0)

/**
 * Cuts the second half off the busy range with the most bytes still to come
 * and returns it as a new range (inserted into `segments`, kept sorted), or
 * undefined when nothing is big enough to be worth it. `reserved(s)` is how
 * far past `s.start + s.done` the connection on `s` has already read, so the
 * cut never lands on bytes already in hand.
 */
export function splitLargest(
  segments: Segment[],
  busy: ReadonlySet<Segment>,
  reserved: (s: Segment) => number,
  minSegment = MIN_SEGMENT
): Segment | undefined {
  let best: Segment | undefined
  let bestLeft = 0
  for (const s of segments) {
    if (!busy.has(s)) continue
    const left = remaining(s) - reserved(s)
    if (left > bestLeft) [best, bestLeft] = [s, left]
  }
  if (!best || bestLeft < 2 * minSegment) return undefined
  const from = best.start + best.done + reserved(best)
  const cut = alignDown(from + Math.ceil(bestLeft / 2))
  if (cut <= from || cut >= best.end) return undefined
  const piece: Segment = { start: cut, end: best.end, done: 0 }
  best.end = cut
  segments.splice(segments.indexOf(best) + 1, 0, piece)
  return piece
}

/**
 * The first `span` bytes still missing from an idle range, cut off as a range
 * of their own (the rest stays idle behind it): connections that take their
 * work this way fetch the file front to back, so the gapless written prefix,
 * which is what can be hashed while downloading, grows with the download
 * instead of waiting for the first range to end. Returns `seg` itself when
 * what would be left is not worth a range.
 */
export function takeFront(
  segments: Segment[],
  seg: Segment,
  span: number,
  minSegment = MIN_SEGMENT
): Segment {
  const from = seg.start + seg.done
  const cut = alignDown(from + span)
  if (cut <= from || seg.end - cut < minSegment) return seg
  segments.splice(segments.indexOf(seg) + 1, 0, { start: cut, end: seg.end, done: 0 })
  seg.end = cut
  return seg
}

/** Folds each finished range into the range right after it (neither held by
 *  a connection), so a map of many small ranges stays short. */
export function foldFinished(segments: Segment[], busy: { has(s: Segment): boolean }): void {
  for (let i = 0; i + 1 < segments.length;) {
    const a = segments[i]!
    const b = segments[i + 1]!
    if (remaining(a) > 0 || a.end !== b.start || busy.has(a) || busy.has(b)) {
      i++
      continue
    }
    a.done = a.end - a.start + b.done
    a.end = b.end
    segments.splice(i + 1, 1)
  }
}
