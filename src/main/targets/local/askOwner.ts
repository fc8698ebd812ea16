// The requester's side of a control request (status/controlRequests.ts): leave
// the word for the process that runs a download, then wait — on the status
// file's changes, not on a timer's guess — until that process has acted (the
// entry is no longer running under it) or has died, for a few seconds at most.
import { ACTIVE_STATES } from '../../../shared/types'
import { UserError } from '../../errors'
import {
  clearControlRequest,
  writeControlRequest,
  type ControlWord
} from '../../status/controlRequests'
import type { StatusEntry, StatusOwner } from '../../status/statusEntry'
import type { StatusStore } from '../../status/statusStore'

/** How long an owner has to act on a request before the requester names it. */
export const CONTROL_ANSWER_MS = 6000
/** How often the requester reads the file again where a watch event is missed. */
const RECHECK_MS = 250

const sameOwner = (a: StatusOwner | null, b: StatusOwner): boolean =>
  a !== null && a.host === b.host && a.pid === b.pid

/** Whether `cur` shows the owner has let go of the job (or the entry is gone). */
function letGo(cur: StatusEntry | undefined, id: string, owner: StatusOwner): boolean {
  return (
    !cur || cur.id !== id || !ACTIVE_STATES.includes(cur.status) || !sameOwner(cur.owner, owner)
  )
}

export interface AskOwner {
  store: StatusStore
  workspace: string
  path: string
  entry: StatusEntry
  word: ControlWord
  answerMs?: number
}

/** Asks the entry's owner to pause or cancel it and resolves with the entry as
 *  the owner left it (undefined when it was removed). A dead owner counts as
 *  having let go (the store marks its entry stopped). Throws `busy` naming the
 *  process when it does not answer in time. */
export async function askOwner(a: AskOwner): Promise<StatusEntry | undefined> {
  const owner = a.entry.owner
  if (!owner) return a.store.get(a.path)
  const request = await writeControlRequest(a.workspace, a.entry.id, a.word)
  try {
    const answered = await waitForLetGo(a, owner)
    if (!answered) {
      const where = owner.host ? ` on ${owner.host}` : ''
      throw new UserError(
        'busy',
        `Process ${owner.pid}${where} holds this download and did not answer within ${Math.round((a.answerMs ?? CONTROL_ANSWER_MS) / 1000)} seconds.`
      )
    }
    return a.store.get(a.path)
  } finally {
    // Acted on (the owner took it) or given up on: never left to act on later.
    // Only our own request: one another process wrote since (a cancel while this
    // pause was being carried out) is the owner's next word, not ours to drop.
    await clearControlRequest(a.workspace, a.entry.id, request).catch(() => undefined)
  }
}

function waitForLetGo(a: AskOwner, owner: StatusOwner): Promise<boolean> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!letGo(a.store.get(a.path), a.entry.id, owner)) return
      done(true)
    }
    const recheck = setInterval(() => {
      a.store.refresh().then(check, () => undefined)
    }, RECHECK_MS)
    const limit = setTimeout(() => done(false), a.answerMs ?? CONTROL_ANSWER_MS)
    const done = (ok: boolean): void => {
      clearInterval(recheck)
      clearTimeout(limit)
      a.store.off('change', check)
      resolve(ok)
    }
    a.store.on('change', check)
    check()
  })
}
