// What a local target checks before it queues a download: that the install can
// take downloads at all, which token a pasted link carries, which file name to
// save as, and whether a file already at the destination is the one asked for.
import { access, constants, stat } from 'node:fs/promises'
import type { LocalTargetConfig } from '../../../shared/types'
import { differentFileMessage } from '../../engine/download'
import { sha256File } from '../../engine/verify'
import { UserError } from '../../errors'
import { sanitizeFilename } from '../../models/fileNames'
import type { PastedUrl } from '../../sources/pastedUrl'
import { probeUrl, type ProbeResult } from '../../sources/probe'
import type { StatusEntry } from '../../status/statusEntry'

type Auth = (url: URL) => string | undefined
type AuthHint = (url: URL) => string | undefined

/** Why this install cannot take downloads (no models/ folder, a read-only workspace), if it cannot. */
export async function setupProblem(
  config: LocalTargetConfig,
  modelsDir: string
): Promise<string | undefined> {
  if (!(await isDir(modelsDir)))
    return `${config.comfyui} has no models/ folder; is it a ComfyUI install?`
  const writable = await access(config.workspace, constants.W_OK).then(
    () => true,
    () => false
  )
  if (!writable) return `The workspace ${config.workspace} is not writable.`
  return undefined
}

/** The file name to save as: the one asked for, the one this URL got before in
 *  this folder, or the server's (then with the probe, whose size and hash count too). */
export async function chooseFilename(o: {
  asked: string | undefined
  link: PastedUrl
  folder: string
  entries: Iterable<[string, StatusEntry]>
  auth: Auth
  authHint: AuthHint
}): Promise<{ filename: string; probe?: ProbeResult }> {
  if (o.asked) return { filename: o.asked }
  // Downloaded before from the same URL into the same folder: no need to ask the server.
  const earlier = earlierFilename(o.entries, o.link.shown, o.folder)
  if (earlier) return { filename: earlier }
  const probe = await probeUrl(o.link.given, { auth: o.auth, authHint: o.authHint })
  return { filename: sanitizeFilename(probe.filename), probe }
}

function earlierFilename(
  entries: Iterable<[string, StatusEntry]>,
  url: string,
  folder: string
): string | undefined {
  for (const [, e] of entries) if (e.url === url && e.folder === folder) return e.filename
  return undefined
}

/** Throws unless the file at `path` is the one asked for (size, and sha256 when known). */
export async function checkSameFile(
  path: string,
  have: number,
  o: {
    link: PastedUrl
    sha256: string | null
    probe?: ProbeResult
    cur?: StatusEntry
    auth: Auth
    authHint: AuthHint
  }
): Promise<void> {
  // What this workspace downloaded from this URL before: no need to ask the server.
  const earlier = o.cur?.status === 'completed' && o.cur.url === o.link.shown ? o.cur : undefined
  const want =
    o.probe?.size ??
    earlier?.file_size ??
    (await probeUrl(o.link.given, { auth: o.auth, authHint: o.authHint })).size
  const sha = o.sha256 ?? earlier?.sha256 ?? null
  const sameSize = want !== null && want === have
  if (sameSize && (!sha || (await sha256File(path)) === sha)) return
  throw new UserError('exists', differentFileMessage(path, have, want, !!sha && sameSize))
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false
  )
}
