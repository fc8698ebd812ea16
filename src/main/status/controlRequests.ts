// Asking the process that runs a download to pause or cancel it, whichever
// process that is and on any OS (a POSIX signal would leave Windows out): one
// request file per job, `<workspace>/.podpull/control/<id>`, holding the word
// — the same file the pod helper's workers read. The owner watches the folder
// (fs.watch, and a poll every second where watching does not work), acts, and
// takes the file away; its job's final state in the status file is the answer
// the requester waits for.
import { watch, type FSWatcher } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export type ControlWord = 'pause' | 'cancel'

/** The owner checks for requests at least this often, watching or not. */
export const CONTROL_POLL_MS = 1000
/** A request nobody acted on for this long is left over (its requester gave up). */
const REQUEST_EXPIRES_MS = 30_000
const JOB_ID = /^[0-9a-f]{16}$/

export const controlDir = (workspace: string): string => join(workspace, '.podpull', 'control')

/** Which request file a requester wrote: each is a file of its own (a rename). */
export type RequestStamp = { ino: number; mtimeMs: number } | null

/** Leaves the word for the job's owner (replacing an earlier request); returns
 *  the request's stamp, null when the owner already took it. */
export async function writeControlRequest(
  workspace: string,
  id: string,
  word: ControlWord
): Promise<RequestStamp> {
  const dir = controlDir(workspace)
  await mkdir(dir, { recursive: true })
  const file = join(dir, id)
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  await writeFile(tmp, word, { mode: 0o644 })
  await rename(tmp, file)
  const s = await stat(file).catch(() => null)
  return s && { ino: s.ino, mtimeMs: s.mtimeMs }
}

/** Removes a request: acted on, given up on, or left over from before a restart.
 *  With `only`, just that request: a newer one (a cancel after a pause, from
 *  another process) is left for the owner. */
export async function clearControlRequest(
  workspace: string,
  id: string,
  only?: RequestStamp
): Promise<void> {
  const file = join(controlDir(workspace), id)
  if (only !== undefined) {
    const s = await stat(file).catch(() => null)
    if (!s || !only || s.ino !== only.ino || s.mtimeMs !== only.mtimeMs) return
  }
  await rm(file, { force: true })
}

async function readRequest(file: string, now: number): Promise<ControlWord | 'expired' | null> {
  try {
    const [text, s] = await Promise.all([readFile(file, 'utf8'), stat(file)])
    if (now - s.mtimeMs > REQUEST_EXPIRES_MS) return 'expired'
    const word = text.trim()
    return word === 'pause' || word === 'cancel' ? word : null
  } catch {
    return null
  }
}

export interface ControlInboxOptions {
  /** Whether this process runs or queues the job (only then does it act). */
  runs: (id: string) => boolean
  /** Carries the request out (its file is already removed). */
  act: (id: string, word: ControlWord) => Promise<void>
  pollMs?: number
}

/** The owner's side: notices requests for the jobs this process runs. */
export class ControlInbox {
  private watcher: FSWatcher | null = null
  private poll: NodeJS.Timeout | null = null
  private readonly acting = new Set<string>()
  private checking = false
  private again = false

  constructor(
    private readonly workspace: string,
    private readonly opts: ControlInboxOptions
  ) {}

  async start(): Promise<void> {
    const dir = controlDir(this.workspace)
    await mkdir(dir, { recursive: true }).catch(() => undefined)
    try {
      this.watcher = watch(dir, { persistent: false }, () => void this.check())
      this.watcher.on('error', () => {
        this.watcher?.close()
        this.watcher = null // the poll alone will do
      })
    } catch {
      this.watcher = null
    }
    this.poll = setInterval(() => void this.check(), this.opts.pollMs ?? CONTROL_POLL_MS)
    this.poll.unref()
  }

  stop(): void {
    this.watcher?.close()
    this.watcher = null
    if (this.poll) clearInterval(this.poll)
    this.poll = null
  }

  /** Looks for requests now (also on every watch event and poll). */
  async check(): Promise<void> {
    if (this.checking) {
      this.again = true
      return
    }
    this.checking = true
    try {
      do {
        this.again = false
        await this.checkOnce()
      } while (this.again)
    } finally {
      this.checking = false
    }
  }

  private async checkOnce(): Promise<void> {
    const dir = controlDir(this.workspace)
    const names = await readdir(dir).catch(() => [] as string[])
    for (const id of names) {
      if (!JOB_ID.test(id) || this.acting.has(id) || !this.opts.runs(id)) continue
      const file = join(dir, id)
      const word = await readRequest(file, Date.now())
      if (word === null) continue
      // Taken before acting: a request written meanwhile (cancel after pause) is a new one.
      await rm(file, { force: true })
      if (word === 'expired') continue
      this.acting.add(id)
      void this.opts
        .act(id, word)
        .catch(() => undefined) // the requester sees the state it ends in
        .finally(() => this.acting.delete(id))
    }
  }
}
