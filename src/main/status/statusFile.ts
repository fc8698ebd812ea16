// Reading, locking and atomically replacing `<workspace>/.download_status.json`
// exactly as docs/formats.md describes, so the pod helper (mkdir lock) and other
// PodPull processes can share one workspace.
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { open, rm, stat, writeFile } from 'node:fs/promises'
import { renameRetrying } from '../engine/renameRetry'
import { join } from 'node:path'
import { UserError } from '../errors'
import { acquireStatusLock } from './statusLock'

export const STATUS_FILE_NAME = '.download_status.json'

export const statusFilePath = (workspace: string): string => join(workspace, STATUS_FILE_NAME)

/** The status file's content: entries keyed by absolute final path, as stored. */
export type RawStatus = Record<string, unknown>

/** Not read (`why`, for a file too large to be real) or not parsed (corrupt). */
export type ParsedStatus = { ok: true; raw: RawStatus } | { ok: false; why?: string }

/** Bounds no status file of real downloads comes near (an entry is under 1 KiB,
 *  finished ones age out): a bigger one is planted or broken, and parsing it
 *  would take gigabytes and many seconds. */
export const MAX_STATUS_BYTES = 64 * 1024 * 1024
export const MAX_STATUS_ENTRIES = 100_000

/** A missing or empty file is an empty status; anything that isn't a JSON object is corrupt. */
export function parseStatusText(text: string): ParsedStatus {
  if (text.trim() === '') return { ok: true, raw: {} }
  try {
    const v: unknown = JSON.parse(text)
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const n = Object.keys(v).length
      if (n > MAX_STATUS_ENTRIES) return { ok: false, why: `it has ${n} entries` }
      return { ok: true, raw: v as RawStatus }
    }
  } catch {
    // fall through: truncated or garbage
  }
  return { ok: false }
}

class StatusTooLarge extends UserError {
  constructor(
    file: string,
    readonly bytes: number
  ) {
    super(
      'too-large',
      `${file} is ${Math.round(bytes / 1048576)} MiB, more than a status file of real downloads holds; PodPull will not read it.`
    )
  }
}

/** The file's text ('' when missing). Opened without blocking and refused
 *  unless it is a regular file: reading a FIFO put in its place would hang. */
export async function readStatusText(file: string): Promise<string> {
  let fh
  try {
    fh = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw err
  }
  try {
    const s = await fh.stat()
    if (!s.isFile())
      throw new UserError(
        'unsupported',
        `${file} is not a regular file (a FIFO or device?); PodPull will not read its downloads from it. Move it away.`
      )
    if (s.size > MAX_STATUS_BYTES) throw new StatusTooLarge(file, s.size)
    return await fh.readFile('utf8')
  } finally {
    await fh.close()
  }
}

/** The status file read and parsed; one too large to be real is not read at all. */
export async function readStatus(file: string): Promise<ParsedStatus> {
  try {
    return parseStatusText(await readStatusText(file))
  } catch (err) {
    if (!(err instanceof StatusTooLarge)) throw err
    return { ok: false, why: `it is ${Math.round(err.bytes / 1048576)} MiB` }
  }
}

/** What the user is told when a status file too large to be real was set aside. */
export const setAsideMessage = (file: string, why: string, aside: string): string =>
  `${file} was set aside as ${aside}: ${why}, more than a status file of real downloads holds.`

/** Identity of the file currently under the name: a rename (atomic replace) changes the inode. */
export async function statusFileStamp(file: string): Promise<string | null> {
  try {
    const s = await stat(file)
    return `${s.ino}:${s.size}:${s.mtimeMs}`
  } catch {
    return null
  }
}

/** Moves an unreadable file aside so nobody parses it again, keeping it for a human. */
export async function moveAsideCorrupt(file: string, epochSeconds: number): Promise<string> {
  const aside = `${file}.corrupt-${Math.floor(epochSeconds)}`
  await renameRetrying(file, aside)
  return aside
}

/** Atomic replace with the temp name docs/formats.md gives (`<file>.tmp-<pid>-<random>`),
 *  which is why this isn't write-file-atomic (whose temp names differ). */
export async function writeStatusAtomic(file: string, raw: RawStatus): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  // No fsync (in either engine): it would stretch the time the lock is held (a process
  // killed while holding it blocks everyone for the 10 s stale time), and a file torn by a power
  // cut is recovered like any corrupt one. Readers still never see half a file.
  await writeFile(tmp, JSON.stringify(raw, null, 2) + '\n', { encoding: 'utf8', mode: 0o644 })
  try {
    await renameRetrying(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

/** Runs `fn` holding `<file>.lock` (statusLock.ts; the helper follows the same
 *  protocol). Hold it for the read-modify-write only. */
export async function withStatusLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const held = await acquireStatusLock(file)
  try {
    return await fn()
  } finally {
    // A lock taken over as stale by someone else is theirs now: release() leaves it.
    await held.release().catch(() => undefined)
  }
}
