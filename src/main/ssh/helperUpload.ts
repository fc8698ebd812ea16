// Puts the Python helper (one zipapp, built by scripts/build-helper.mjs) on the
// pod once per build, at <workspace>/.podpull/helper-<sha256 prefix>.pyz: the
// name follows the content, so two builds never overwrite each other's file.
// Everything goes through SFTP (no path on a command line): upload to a temp
// name, read it back and compare the sha256, then rename into place, so a
// half-written helper never runs.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { SFTPWrapper, Stats } from 'ssh2'
import { UserError } from '../errors'
import { checkWorkspace, helperRemotePath, podpullDir } from './remotePath'
import { sftpCall } from './sftpWrite'
import type { SshConnection } from './sshConnection'
import { builtCandidates, processLayout } from '../resourcePaths'

export interface HelperFile {
  path: string
  version: string
  content: Buffer
  sha256: string
}

const HELPER_REL = 'helper/podpull_helper.pyz'
/** The package file that holds HELPER_VERSION, inside the .pyz. */
const VERSION_ENTRY = 'podpull_helper/__init__.py'

/** Where the helper lives: PODPULL_HELPER, a packaged app's resources, or out/
 *  where `npm run build` writes it (see resourcePaths.ts). */
export function helperCandidates(here = dirname(fileURLToPath(import.meta.url))): string[] {
  return builtCandidates(HELPER_REL, processLayout(here, process.env.PODPULL_HELPER))
}

export function loadHelper(path = helperCandidates().find((p) => existsSync(p))): HelperFile {
  if (!path)
    throw new Error(
      `The pod helper ${HELPER_REL} is missing from this installation (npm run build makes it).`
    )
  const content = readFileSync(path)
  const version = /^HELPER_VERSION\s*=\s*["']([0-9A-Za-z._-]+)["']/m.exec(
    versionSource(content)
  )?.[1]
  if (!version) throw new Error(`${path} has no HELPER_VERSION = "x.y.z" line.`)
  return { path, version, content, sha256: sha256(content) }
}

// Loaded when a helper's version is read: every CLI command (a local
// download among them) would otherwise pay for evaluating fflate at start-up.
const fflate = (): typeof import('fflate') => createRequire(import.meta.url)('fflate')

function versionSource(pyz: Buffer): string {
  const { strFromU8, unzipSync } = fflate()
  try {
    const entry = unzipSync(pyz, { filter: (f) => f.name === VERSION_ENTRY })[VERSION_ENTRY]
    return entry ? strFromU8(entry) : ''
  } catch {
    return '' // not a zip: reported as a missing version
  }
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

export interface UploadResult {
  remotePath: string
  uploaded: boolean
}

/** Makes sure the pod has this helper build; uploads it only when missing or different. */
export async function ensureHelper(
  conn: SshConnection,
  workspace: string,
  helper: HelperFile
): Promise<UploadResult> {
  const ws = checkWorkspace(workspace)
  const remotePath = helperRemotePath(ws, helper.sha256)
  const sftp = await conn.sftp()
  try {
    if (await sameFile(sftp, remotePath, helper)) return { remotePath, uploaded: false }
    await ensureDir(sftp, ws, podpullDir(ws))
    const tmp = `${remotePath}.tmp-${randomBytes(4).toString('hex')}`
    try {
      await sftpCall<void>((cb) => sftp.writeFile(tmp, helper.content, { mode: 0o644 }, cb))
      if (!(await sameFile(sftp, tmp, helper)))
        throw new UserError('ssh', `The helper uploaded to ${conn.where} did not read back intact.`)
      await sftpCall<void>((cb) => sftp.ext_openssh_rename(tmp, remotePath, cb))
    } catch (err) {
      await sftpCall<void>((cb) => sftp.unlink(tmp, cb)).catch(() => undefined)
      throw unwritable(err, ws)
    }
    return { remotePath, uploaded: true }
  } finally {
    sftp.end()
  }
}

async function sameFile(sftp: SFTPWrapper, path: string, helper: HelperFile): Promise<boolean> {
  const st = await sftpCall<Stats>((cb) => sftp.stat(path, cb)).catch(() => null)
  if (!st || st.size !== helper.content.length) return false
  const data = await sftpCall<Buffer>((cb) => sftp.readFile(path, cb))
  return sha256(data) === helper.sha256
}

async function ensureDir(sftp: SFTPWrapper, ws: string, dir: string): Promise<void> {
  const st = await sftpCall<Stats>((cb) => sftp.stat(ws, cb)).catch(() => null)
  if (!st) throw new UserError('unwritable', `The workspace ${ws} does not exist on the pod.`)
  if (!st.isDirectory()) throw new UserError('unwritable', `The workspace ${ws} is not a folder.`)
  const existing = await sftpCall<Stats>((cb) => sftp.stat(dir, cb)).catch(() => null)
  if (existing?.isDirectory()) return
  await sftpCall<void>((cb) => sftp.mkdir(dir, { mode: 0o755 }, cb)).catch((err: unknown) => {
    throw unwritable(err, ws)
  })
}

function unwritable(err: unknown, ws: string): unknown {
  if (err instanceof UserError) return err
  // SFTP status 3 is "permission denied"; 4 "failure" is what read-only / immutable gives.
  const code = (err as { code?: number }).code
  if (code === 3 || code === 4)
    return new UserError('unwritable', `The workspace ${ws} is not writable on the pod.`)
  return new UserError('ssh', `Uploading the helper to ${ws} failed: ${String(err)}`)
}
