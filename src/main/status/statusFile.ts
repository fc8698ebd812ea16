// Reading, locking and atomically replacing `<workspace>/.download_status.json`
// exactly as docs/formats.md describes, so the pod helper (mkdir lock) and other
// PodPull processes can share one workspace.
import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { lock } from 'proper-lockfile'

export const STATUS_FILE_NAME = '.download_status.json'

export const statusFilePath = (workspace: string): string => join(workspace, STATUS_FILE_NAME)

/** The status file's content: entries keyed by absolute final path, as stored. */
export type RawStatus = Record<string, unknown>

export type ParsedStatus = { ok: true; raw: RawStatus } | { ok: false }

/** A missing or empty file is an empty status; anything that isn't a JSON object is corrupt. */
export function parseStatusText(text: string): ParsedStatus {
  if (text.trim() === '') return { ok: true, raw: {} }
  try {
    const v: unknown = JSON.parse(text)
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      return { ok: true, raw: v as RawStatus }
  } catch {
    // fall through: truncated or garbage
  }
  return { ok: false }
}

export async function readStatusText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw err
  }
}

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
  await rename(file, aside)
  return aside
}

/** Atomic replace with the temp name docs/formats.md gives (`<file>.tmp-<pid>-<random>`),
 *  which is why this isn't write-file-atomic (whose temp names differ). */
export async function writeStatusAtomic(file: string, raw: RawStatus): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  // No fsync: it would stretch the time the lock is held (a process killed while
  // holding it blocks everyone for the 10 s stale time), and a file torn by a power
  // cut is recovered like any corrupt one. Readers still never see half a file.
  await writeFile(tmp, JSON.stringify(raw, null, 2) + '\n', { encoding: 'utf8', mode: 0o644 })
  try {
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

export const LOCK_STALE_MS = 10_000
export const LOCK_UPDATE_MS = 5_000

/** Runs `fn` holding `<file>.lock` (a directory; proper-lockfile's protocol, which the
 *  helper follows with os.mkdir). Hold it for the read-modify-write only. */
export async function withStatusLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  let compromised: Error | undefined
  const release = await lock(file, {
    lockfilePath: `${file}.lock`,
    realpath: false,
    stale: LOCK_STALE_MS,
    update: LOCK_UPDATE_MS,
    // 50–100 ms apart for a little over the 10 s stale time, so a lock left by a
    // killed process is always outlived and taken over rather than given up on.
    retries: { retries: 150, minTimeout: 50, maxTimeout: 100, factor: 1.2, randomize: true },
    onCompromised: (err) => {
      compromised = err
    }
  }).catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ELOCKED')
      throw new Error(`The status file ${file} stayed locked by another process for over 10 s.`)
    throw err
  })
  try {
    return await fn()
  } finally {
    // A lock taken over as stale by someone else is theirs now; don't remove it.
    if (!compromised) await release().catch(() => undefined)
  }
}
