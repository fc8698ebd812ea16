// The `<final>.part.json` sidecar (docs/formats.md "Partial files"): what a
// later run — ours or the pod helper's — needs to resume the `.part` safely.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { readRegularFile } from './regularFile'
import { renameRetrying } from './renameRetry'
import { z } from 'zod'
import type { Segment } from './segmentPlanner'

const segmentSchema = z.object({
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  done: z.number().int().nonnegative()
})

/** A validator goes back to the server in If-Range: never one that could add a header. */
const headerValue = z.string().regex(/^[^\r\n]*$/)

const sidecarSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  url: z.string(),
  final_path: z.string(),
  size: z.number().int().nonnegative(),
  etag: headerValue.nullable(),
  last_modified: headerValue.nullable(),
  sha256: z.string().nullable(),
  segments: z.array(segmentSchema).min(1),
  created: z.number(),
  updated: z.number(),
  /** Set when the data was NOT fdatasynced before this sidecar was written: the
   *  boot it is valid for. After a reboot (power loss) its claims can't be trusted. */
  boot_id: z.string().nullable().optional()
})

export type Sidecar = z.infer<typeof sidecarSchema>

export const partPath = (finalPath: string): string => `${finalPath}.part`
export const sidecarPath = (finalPath: string): string => `${finalPath}.part.json`

let bootId: string | null | undefined

/** This boot's id (Linux), or null where there is none: then every checkpoint is synced. */
export function currentBootId(): string | null {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null
    } catch {
      bootId = null
    }
  }
  return bootId
}

/** Whether a sidecar's claims still hold: synced, or written during this boot. */
export const trustworthy = (s: Sidecar): boolean =>
  s.boot_id == null || s.boot_id === currentBootId()

/** Segments that cover [0, size) in order, without gaps or overlaps, none overdone. */
export function segmentsCover(segments: readonly Segment[], size: number): boolean {
  let at = 0
  for (const s of segments) {
    if (s.start !== at || s.end < s.start || s.done > s.end - s.start) return false
    at = s.end
  }
  return at === size
}

/** The sidecar, or undefined when it is missing, unreadable or not one we understand. */
export async function readSidecar(finalPath: string): Promise<Sidecar | undefined> {
  let text: string
  try {
    const read = await readRegularFile(sidecarPath(finalPath))
    if (read === undefined) return undefined
    text = read
  } catch {
    return undefined
  }
  try {
    const parsed = sidecarSchema.safeParse(JSON.parse(text))
    if (!parsed.success || !segmentsCover(parsed.data.segments, parsed.data.size)) return undefined
    return parsed.data
  } catch {
    return undefined // truncated or garbage: treated as no sidecar, the .part is restarted
  }
}

/** Atomic replace (tmp + rename) so a reader or a kill -9 never sees half a sidecar. */
export async function writeSidecar(finalPath: string, data: Sidecar): Promise<void> {
  const target = sidecarPath(finalPath)
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    // 0600: it holds the link as given, signature and all (docs/formats.md).
    await writeFile(tmp, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 })
    await renameRetrying(tmp, target)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

/** Removes the `.part` and its sidecar (cancel, failed check, restart). */
export async function removePartial(finalPath: string): Promise<void> {
  await rm(sidecarPath(finalPath), { force: true })
  await rm(partPath(finalPath), { force: true })
}
