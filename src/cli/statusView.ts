// `podpull status` output: which targets can't be reached right now, and
// the rows to print, where a pod that can't be reached shows its cached rows
// marked with the real time it was last seen (never "just now" for old data).
import type { PodPullApp } from '../main/app'
import type { DownloadRecord, TargetInfo } from '../shared/types'
import { formatAgo } from '../shared/format'
import { describe } from './follow'
import { say } from './terminalOut'

/** Opens a target; the reason it can't be reached now, or null when it can. */
export async function reachTarget(a: PodPullApp, id: string): Promise<string | null> {
  const failed = await a.core.openTarget(id).then(
    () => null,
    (err: unknown) => (err as Error).message
  )
  const info = a.core.target(id).info()
  if (failed) return withTargetName(failed, info.name)
  if (info.config.kind === 'ssh' && info.connection !== 'online')
    return withTargetName(
      info.message ?? `${info.config.host}:${info.config.port} is offline.`,
      info.name
    )
  return null
}

/** Fills the "<name>" of advice such as `podpull targets trust <name> …`, so
 *  the command can be run as printed (quoted when the name needs it). */
export function withTargetName(message: string, name: string): string {
  const arg = /^[A-Za-z0-9._-]+$/.test(name) ? name : `'${name.replace(/'/g, `'\\''`)}'`
  return message.replaceAll('<name>', arg)
}

/** "3 h ago (2026-12-01 21:04 UTC)": relative and absolute, for cached rows. */
function seenAt(ms: number | null): string {
  if (!ms) return 'never'
  return `${formatAgo(ms)} (${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC)`
}

/** `status` rows; a target that can't be reached shows its cached rows, marked. */
export function printStatus(
  a: PodPullApp,
  infos: TargetInfo[],
  records: DownloadRecord[],
  unreachable: Map<string, string>
): void {
  for (const info of infos) {
    if (!unreachable.has(info.id)) continue
    const seen = seenAt(a.core.target(info.id).info().lastSeen)
    say(`"${info.name}" is unreachable: cached status, last seen ${seen}.\n`)
  }
  if (!records.length)
    return void say(unreachable.size ? 'No cached downloads.\n' : 'No downloads.\n')
  for (const r of records) {
    const tname = infos.find((i) => i.id === r.targetId)?.name ?? r.targetId
    const cached = unreachable.has(r.targetId)
      ? `\n    (cached: last seen ${seenAt(a.core.target(r.targetId).info().lastSeen)})`
      : ''
    const mark = r.kind === 'upload' ? '  (upload)' : ''
    say(
      `${r.id}  ${tname}  ${r.folder}/${r.filename}${mark}\n    ${describe(r)}${r.error ? `\n    ${r.error}` : ''}${cached}\n`
    )
  }
}
