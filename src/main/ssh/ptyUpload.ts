// Puts the helper on a pod reached only through a terminal: base64 chunks
// appended to a temp file by `base64 -d` (a here-document per chunk, short
// lines so the terminal never truncates one), then the sha256 of what landed
// is compared before the rename, so a half-written helper never runs. Only
// our own checked, single-quoted paths reach the command lines.
import { randomBytes } from 'node:crypto'
import { UserError } from '../errors'
import type { HelperFile, UploadResult } from './helperUpload'
import { checkWorkspace, helperRemotePath, podpullDir, shellQuote } from './remotePath'
import type { CommandRunner } from './transport'

/** Base64 per command (about 12 KB), in lines of 76 characters. */
const CHUNK_LINES = 160
const LINE = 76

export async function uploadHelperOverShell(
  shell: CommandRunner,
  workspace: string,
  helper: HelperFile
): Promise<UploadResult> {
  const ws = checkWorkspace(workspace)
  const remotePath = helperRemotePath(ws, helper.sha256)
  const state = await run(
    shell,
    `if [ ! -d ${shellQuote(ws)} ]; then echo no-workspace; ` +
      `elif [ -f ${shellQuote(remotePath)} ]; then sha256sum ${shellQuote(remotePath)}; ` +
      `else echo missing; fi`
  )
  if (state.stdout.includes('no-workspace'))
    throw new UserError('unwritable', `The workspace ${ws} does not exist on the pod.`)
  if (hashIn(state.stdout) === helper.sha256) return { remotePath, uploaded: false }

  const tmp = `${remotePath}.tmp-${randomBytes(4).toString('hex')}`
  const qtmp = shellQuote(tmp)
  const made = await run(shell, `mkdir -p ${shellQuote(podpullDir(ws))} && : > ${qtmp}`)
  if (made.code !== 0)
    throw new UserError('unwritable', `The workspace ${ws} is not writable on the pod.`)
  try {
    await sendChunks(shell, helper.content, qtmp)
    const check = await run(shell, `sha256sum ${qtmp}`)
    if (hashIn(check.stdout) !== helper.sha256)
      throw new UserError('ssh', `The helper uploaded to ${shell.where} did not read back intact.`)
    const moved = await run(shell, `chmod 644 ${qtmp} && mv -f ${qtmp} ${shellQuote(remotePath)}`)
    if (moved.code !== 0)
      throw new UserError('unwritable', `The workspace ${ws} is not writable on the pod.`)
  } catch (err) {
    await shell.exec(`rm -f ${qtmp}`).catch(() => undefined)
    throw err
  }
  return { remotePath, uploaded: true }
}

async function sendChunks(shell: CommandRunner, content: Buffer, qtmp: string): Promise<void> {
  const b64 = content.toString('base64')
  const lines: string[] = []
  for (let i = 0; i < b64.length; i += LINE) lines.push(b64.slice(i, i + LINE))
  for (let i = 0; i < lines.length; i += CHUNK_LINES) {
    const eof = `__PP_EOF_${randomBytes(4).toString('hex')}`
    const body = lines.slice(i, i + CHUNK_LINES).join('\n')
    const r = await run(shell, `base64 -d >> ${qtmp} <<'${eof}'\n${body}\n${eof}`)
    if (r.code !== 0)
      throw new UserError(
        'ssh',
        `Uploading the helper to ${shell.where} failed: ${r.stdout.trim()}`
      )
  }
}

async function run(
  shell: CommandRunner,
  command: string
): Promise<{ stdout: string; code: number | null }> {
  const r = await shell.exec(command)
  if (r.code === null)
    throw new UserError(
      'offline',
      `The connection to ${shell.where} dropped while uploading the helper.`
    )
  return r
}

function hashIn(text: string): string | null {
  return /\b([0-9a-f]{64})\b/.exec(text)?.[1] ?? null
}
