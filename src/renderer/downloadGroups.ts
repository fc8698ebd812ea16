// The downloads view grouped by target: what is still going (and what failed
// or was cancelled, which wants a decision) in view, completed ones folded, and
// a line in words per target for what it is doing or waiting for.
import type { DownloadRecord, JobState, TargetInfo } from '../shared/types'

export interface TargetGroup {
  targetId: string
  name: string
  /** Unfinished, failed and cancelled rows: the ones that may need the user. */
  open: DownloadRecord[]
  /** Completed rows, shown folded. */
  done: DownloadRecord[]
  /** "2 downloading · 1 queued · 3 completed". */
  summary: string
  /** A volume target's fill pod, or what its downloads wait for; null when nothing to say. */
  podLine: string | null
}

const WORDS: [JobState, string][] = [
  ['downloading', 'downloading'],
  ['starting', 'starting'],
  ['verifying', 'verifying'],
  ['queued', 'queued'],
  ['paused', 'paused'],
  ['error', 'failed'],
  ['cancelled', 'cancelled'],
  ['completed', 'completed']
]

export function groupSummary(rows: readonly DownloadRecord[]): string {
  const parts = WORDS.flatMap(([state, word]) => {
    const n = rows.filter((r) => r.state === state).length
    return n ? [`${n} ${word}`] : []
  })
  // A wait the engine explains (rate limit, a pod starting) is named, not only counted.
  const waiting = rows.filter((r) => r.notice && r.state !== 'completed').length
  if (waiting) parts.push(`${waiting} waiting`)
  return parts.join(' · ')
}

/** A network volume's downloads run on whichever pod mounts it: say which, or
 *  that they wait for one. */
export function fillPodWords(t: TargetInfo, rows: readonly DownloadRecord[]): string | null {
  if (t.config.kind !== 'ssh' || !t.config.runpodVolume) return null
  const pod = t.fillPod
  if (pod?.ours)
    return `Running on PodPull's CPU fill pod ${pod.podId} (${pod.status.toLowerCase()}); it is removed when these downloads finish.`
  if (pod) return `Running on your pod ${pod.podId}, which has the volume mounted.`
  const waiting = rows.some((r) => ['queued', 'starting', 'downloading'].includes(r.state))
  return waiting
    ? 'Waiting for a pod: no pod has this volume mounted. Start a fill pod from the target (Fill…).'
    : null
}

/** One group per target that has downloads, in the targets' order; downloads
 *  of a target that was removed come last under "Removed target". */
export function groupByTarget(
  list: readonly DownloadRecord[],
  targets: readonly TargetInfo[]
): TargetGroup[] {
  const byTarget = new Map<string, DownloadRecord[]>()
  for (const r of list) byTarget.set(r.targetId, [...(byTarget.get(r.targetId) ?? []), r])
  const known = new Set(targets.map((t) => t.id))
  const order: { id: string; t: TargetInfo | null }[] = [
    ...targets.map((t) => ({ id: t.id, t })),
    ...[...byTarget.keys()].filter((id) => !known.has(id)).map((id) => ({ id, t: null }))
  ]
  return order.flatMap(({ id, t }) => {
    const rows = byTarget.get(id)
    if (!rows?.length) return []
    return [
      {
        targetId: id,
        name: t?.name ?? 'Removed target',
        open: rows.filter((r) => r.state !== 'completed'),
        done: rows.filter((r) => r.state === 'completed'),
        summary: groupSummary(rows),
        podLine: t ? fillPodWords(t, rows) : null
      }
    ]
  })
}
