// "Keep one, link the others", undo-able until confirmed. Each other name is
// swapped (by a rename) for a hard link to the kept file, while its old
// content stays beside it as "<name>.podpull-undo-<op>", a hard link to the
// old inode: no name is ever without content and nothing is lost until the
// user confirms. Undo renames the old content back; confirm deletes it, but
// only where the name still holds the kept content (so never the only copy).
// A journal per change, <workspace>/.podpull/keep-one/<op>.json, outlives a
// restart. The pod helper does the same (keepone.py).
import { randomBytes } from 'node:crypto'
import { link, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { DuplicateGroup, KeepOnePending } from '../../shared/types'
import { UserError } from '../errors'

/** Marks the kept-aside old contents: the model walkers skip these names. */
export const UNDO_MARK = '.podpull-undo-'

interface Journal {
  op: string
  sha256: string
  kept: string
  size: number
  linked: { path: string; stash: string }[]
}

const journalDir = (ws: string): string => join(ws, '.podpull', 'keep-one')
const journalFile = (ws: string, op: string): string => join(journalDir(ws), `${op}.json`)

const pending = (j: Journal): KeepOnePending => ({
  op: j.op,
  sha256: j.sha256,
  kept: j.kept,
  linked: j.linked.map((l) => l.path),
  reclaimable: j.size * j.linked.length
})

/** Links every other file of `group` to `keep`, keeping the old contents aside. */
export async function linkOthers(
  ws: string,
  group: DuplicateGroup,
  keep: string
): Promise<KeepOnePending> {
  const op = randomBytes(6).toString('hex')
  const others = group.files.map((f) => f.path).filter((p) => p !== keep)
  const j: Journal = {
    op,
    sha256: group.sha256,
    kept: keep,
    size: group.size,
    linked: others.map((path) => ({ path, stash: `${path}${UNDO_MARK}${op}` }))
  }
  // Written first: a crash half-way leaves a journal that undo or confirm can finish.
  await mkdir(journalDir(ws), { recursive: true })
  await writeFile(journalFile(ws, op), JSON.stringify(j))
  for (const l of j.linked) {
    await link(l.path, l.stash)
    await replaceWithLink(keep, l.path)
  }
  return pending(j)
}

/** `name` becomes a hard link to `keep`: the link is made beside it, then renamed over it. */
async function replaceWithLink(keep: string, name: string): Promise<void> {
  const tmp = `${name}.link-${randomBytes(4).toString('hex')}.part`
  await link(keep, tmp)
  try {
    await rename(tmp, name)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

async function readJournal(ws: string, op: string): Promise<Journal> {
  if (!/^[0-9a-f]{12}$/.test(op)) throw new UserError('bad-request', 'Not a keep-one change id.')
  const text = await readFile(journalFile(ws, op), 'utf8').catch(() => null)
  if (text === null)
    throw new UserError('not-found', 'No pending keep-one change with that id here.')
  return JSON.parse(text) as Journal
}

const inode = async (p: string): Promise<string | null> => {
  const s = await stat(p).catch(() => undefined)
  return s ? `${s.dev}:${s.ino}` : null
}

/** Undo puts every old content back; confirm deletes the kept-aside copies. */
export async function settleKeepOne(
  ws: string,
  op: string,
  undo: boolean
): Promise<{ restored: string[]; reclaimed: number; sha256: string }> {
  const j = await readJournal(ws, op)
  const out = { restored: [] as string[], reclaimed: 0, sha256: j.sha256 }
  const kept = await inode(j.kept)
  for (const l of j.linked) {
    if ((await inode(l.stash)) === null) continue // linked never got this far
    const now = await inode(l.path)
    if (undo || now !== kept || kept === null) {
      // Undone, or the name changed since: its old content goes back, never away;
      // beside the name when another file took it meanwhile.
      const to = now === null || now === kept ? l.path : besideName(l.path, j.op)
      await rename(l.stash, to)
      out.restored.push(to)
    } else {
      await rm(l.stash)
      out.reclaimed += j.size
    }
  }
  await rm(journalFile(ws, op), { force: true })
  return out
}

/** "a.safetensors" → "a.before-keep-one-<op>.safetensors". */
export function besideName(path: string, op: string): string {
  const dot = basename(path).lastIndexOf('.')
  const at = dot > 0 ? path.length - basename(path).length + dot : path.length
  return `${path.slice(0, at)}.before-keep-one-${op}${path.slice(at)}`
}

/** The keep-one changes waiting for confirm or undo. */
export async function pendingKeepOnes(ws: string): Promise<KeepOnePending[]> {
  const names = await readdir(journalDir(ws)).catch(() => [] as string[])
  const out: KeepOnePending[] = []
  for (const n of names.filter((x) => /^[0-9a-f]{12}\.json$/.test(x)))
    out.push(pending(await readJournal(ws, n.slice(0, -5))))
  return out
}
