// The status file's lock, `<file>.lock`: a directory holding an `owner` file
// with a random nonce, refreshed while held and released only by its owner.
// The Python helper implements the same protocol (docs/formats.md "Lock"), so
// both engines can share one workspace. Written here rather than with
// proper-lockfile because that package keeps no owner inside the lock: after a
// stale takeover its release removes whoever's lock is there.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'

/** A lock whose mtime is older than this is stale: its holder died. */
export const LOCK_STALE_MS = 10_000
/** How often a holder touches the lock's mtime (well inside the stale time). */
export const LOCK_UPDATE_MS = 2_000
/** How long a writer waits for a live holder before giving up. */
export const LOCK_WAIT_MS = 30_000

export interface HeldLock {
  /** Whether someone took the lock over (we stopped refreshing in time). */
  compromised(): boolean
  /** Removes the lock if it is still ours; never someone else's. */
  release(): Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code

async function ownerNonce(dir: string): Promise<string | null> {
  try {
    const v = JSON.parse(await readFile(join(dir, 'owner'), 'utf8')) as { nonce?: unknown }
    return typeof v.nonce === 'string' ? v.nonce : null
  } catch {
    return null
  }
}

/** Moves a stale lock aside and removes it. If what we moved turns out to be a
 *  fresh lock (someone removed the stale one and made theirs between our stat
 *  and our rename), it is put back. */
async function takeOver(dir: string, staleIno: number, nonce: string): Promise<void> {
  const aside = `${dir}.stale-${nonce}`
  try {
    await rename(dir, aside)
  } catch (err) {
    if (errno(err) === 'ENOENT') return
    throw err
  }
  const moved = await stat(aside).catch(() => null)
  if (moved && moved.ino !== staleIno && Date.now() - moved.mtimeMs <= LOCK_STALE_MS) {
    await rename(aside, dir).catch(() => undefined)
    return
  }
  await rm(aside, { recursive: true, force: true })
}

/** mkdir(lock) and write our owner into it; false when someone else holds it. */
async function tryCreate(dir: string, nonce: string): Promise<boolean> {
  try {
    await mkdir(dir)
  } catch (err) {
    if (errno(err) === 'EEXIST') return false
    throw err
  }
  const owner = { nonce, host: hostname(), pid: process.pid, engine: 'ts' }
  // Only its writer reads it back whole (a taker compares inodes, not nonces),
  // so no temp file: the lock stays a few syscalls.
  await writeFile(join(dir, 'owner'), JSON.stringify(owner) + '\n', { flag: 'wx' })
  return true
}

function refresher(dir: string, nonce: string, state: { compromised: boolean }, every: number) {
  const timer = setInterval(() => {
    void ownerNonce(dir).then(async (n) => {
      if (n !== nonce) {
        state.compromised = true
        clearInterval(timer)
        return
      }
      const t = new Date()
      await utimes(dir, t, t).catch(() => undefined)
    })
  }, every)
  timer.unref()
  return timer
}

/** Takes `<file>.lock`, waiting for a live holder up to LOCK_WAIT_MS and taking
 *  over a stale one (mtime older than LOCK_STALE_MS) at once. */
export async function acquireStatusLock(
  file: string,
  /** Refresh interval; tests stretch it to play a holder that froze. */
  o: { updateMs?: number } = {}
): Promise<HeldLock> {
  const dir = `${file}.lock`
  const nonce = randomBytes(12).toString('hex')
  const deadline = Date.now() + LOCK_WAIT_MS
  while (!(await tryCreate(dir, nonce))) {
    const s = await stat(dir).catch(() => null)
    if (s && Date.now() - s.mtimeMs > LOCK_STALE_MS) {
      await takeOver(dir, s.ino, nonce)
      continue
    }
    if (Date.now() > deadline)
      throw new Error(
        `The status file ${file} stayed locked by another process for over ${LOCK_WAIT_MS / 1000} s.`
      )
    await sleep(50 + Math.random() * 50)
  }
  const state = { compromised: false }
  const timer = refresher(dir, nonce, state, o.updateMs ?? LOCK_UPDATE_MS)
  return {
    compromised: () => state.compromised,
    async release() {
      clearInterval(timer)
      if ((await ownerNonce(dir)) !== nonce) return // taken over: theirs now
      await rm(join(dir, 'owner'), { force: true })
      await rmdir(dir).catch(() => undefined)
    }
  }
}
