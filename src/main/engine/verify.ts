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
