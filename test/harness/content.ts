// Deterministic model-file content, generated on the fly from (seed, size):
// byte at offset o is pattern[o % PATTERN_LEN]. No fixture files and no
// whole-file buffers, so a test can serve 8 GiB without holding 8 GiB.
import { createCipheriv, createHash } from 'node:crypto'

export const DEFAULT_SEED = 'podpull'

// A prime length so the pattern never lines up with power-of-two block or
// chunk boundaries (a misplaced block then shows up as a wrong hash).
export const PATTERN_LEN = 1_048_573

const patterns = new Map<string, Buffer>()
const hashes = new Map<string, string>()

/** The pattern written twice in a row, so any window of up to PATTERN_LEN
 *  bytes starting anywhere in the first copy is one contiguous slice. */
export function doubledPattern(seed: string = DEFAULT_SEED): Buffer {
  let buf = patterns.get(seed)
  if (!buf) {
    // AES-CTR over zeros: fast, well-mixed, identical on every Node version.
    const key = createHash('sha256').update(seed).digest()
    const once = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(
      Buffer.alloc(PATTERN_LEN)
    )
    buf = Buffer.concat([once, once])
    patterns.set(seed, buf)
  }
  return buf
}

/** A zero-copy slice of the content starting at `offset`, at most `max` bytes
 *  (and never more than PATTERN_LEN). */
export function sliceAt(seed: string, offset: number, max: number): Buffer {
  const start = offset % PATTERN_LEN
  return doubledPattern(seed).subarray(start, start + Math.min(max, PATTERN_LEN))
}

/** Bytes [start, end) of the content (end exclusive, like Buffer#subarray);
 *  meant for small checks. Defaults: the whole file. */
export function contentOf(
  size: number,
  seed: string = DEFAULT_SEED,
  start = 0,
  end: number = size
): Buffer {
  const from = Math.max(0, Math.min(start, size))
  const to = Math.max(from, Math.min(end, size))
  const out = Buffer.allocUnsafe(to - from)
  let o = from
  while (o < to) {
    const part = sliceAt(seed, o, to - o)
    part.copy(out, o - from)
    o += part.length
  }
  return out
}

/** Hex sha256 of the whole content; computed once per (size, seed). */
export function sha256Of(size: number, seed: string = DEFAULT_SEED): string {
  const key = `${seed}\0${size}`
  let hex = hashes.get(key)
  if (hex === undefined) {
    const h = createHash('sha256')
    for (let o = 0; o < size;) {
      const part = sliceAt(seed, o, size - o)
      h.update(part)
      o += part.length
    }
    hex = h.digest('hex')
    hashes.set(key, hex)
  }
  return hex
}
