// Checks on a finished or existing file, and human-readable sizes for messages.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { statfs } from 'node:fs/promises'

/** SHA-256 of a file as lowercase hex, read in large chunks. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20, signal }))
    hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Free bytes available to this user on the filesystem holding `dir`. */
export async function statfsFree(dir: string): Promise<number> {
  const s = await statfs(dir)
  return s.bavail * s.bsize
}

/** Decimal units like disk tools show: "22.2 GB", "3.1 MB", "512 B". */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let v = n
  let i = 0
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`
}
