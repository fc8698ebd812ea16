// Renames that Windows refuses for a moment. An antivirus scanner or the search
// indexer that has just opened the file (the fresh temp file, or the status file
// being replaced) makes rename fail with EPERM, EACCES or EBUSY until it lets go,
// usually within milliseconds. graceful-fs retries those on win32 for up to 60 s;
// the status file and sidecar are written under the status lock and once a
// second, so here the waits grow from 10 ms and stop after about 1 s, then the
// error surfaces with a sentence that says what held the file. Other errors, and
// every error on other systems (where EPERM is permanent), fail at once.
import { rename as fsRename } from 'node:fs/promises'

/** The codes a transient Windows sharing violation shows up as. */
const TRANSIENT = new Set(['EPERM', 'EACCES', 'EBUSY'])
/** Total wait before giving up, in ms. */
export const RENAME_RETRY_MS = 1000
const FIRST_WAIT_MS = 10

export interface RenameRetryOptions {
  /** Defaults to process.platform; tests pass 'win32'. */
  platform?: NodeJS.Platform
  rename?: (from: string, to: string) => Promise<void>
  sleep?: (ms: number) => Promise<void>
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** rename(from, to), retried briefly on Windows while another program holds the file. */
export async function renameRetrying(
  from: string,
  to: string,
  o: RenameRetryOptions = {}
): Promise<void> {
  const rename = o.rename ?? fsRename
  const sleep = o.sleep ?? pause
  const retries = (o.platform ?? process.platform) === 'win32'
  let waited = 0
  let wait = FIRST_WAIT_MS
  for (;;) {
    try {
      return await rename(from, to)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (!retries || !code || !TRANSIENT.has(code)) throw err
      if (waited >= RENAME_RETRY_MS) throw stillHeld(err as NodeJS.ErrnoException, to, waited)
      const next = Math.min(wait, RENAME_RETRY_MS - waited)
      await sleep(next)
      waited += next
      wait *= 2
    }
  }
}

/** The last error, said plainly, with its code kept for callers that branch on it. */
function stillHeld(err: NodeJS.ErrnoException, to: string, waited: number): Error {
  const e: NodeJS.ErrnoException = new Error(
    `Could not replace ${to} (${err.code}): another program (an antivirus scanner or ` +
      `the search indexer) kept it open for ${waited} ms.`,
    { cause: err }
  )
  e.code = err.code
  return e
}
