// How much of a pod's status file this app keeps. Anything on the pod can
// write that file, and every record kept is held in memory, announced to the
// dashboard and saved in the settings file (which the CLI reads at each start).
// A pod's status file holds its downloads of the last day or so: a few
// thousand would be a great many. Past the cap the running and newest ones
// are kept and the target says so; nothing is set aside on the pod, which is
// not this app's to rewrite.
import type { DownloadRecord } from '../../../shared/types'
import { ACTIVE_STATES } from '../../../shared/types'

export const MAX_POD_RECORDS = 5000
export const MAX_POD_RECORD_BYTES = 8 << 20

export interface CappedRecords {
  kept: DownloadRecord[]
  /** Why some were left out, for the target's card; null when all fit. */
  notice: string | null
}

/** The records that fit, in their original order: running ones first, then
 *  stopped ones a user may resume, then the rest, each newest first. */
export function capRecords(
  records: DownloadRecord[],
  limits = { count: MAX_POD_RECORDS, bytes: MAX_POD_RECORD_BYTES }
): CappedRecords {
  const sizes = records.map((r) => Buffer.byteLength(JSON.stringify(r)))
  const total = sizes.reduce((a, b) => a + b, 0)
  if (records.length <= limits.count && total <= limits.bytes)
    return { kept: records, notice: null }
  const order = records.map((_, i) => i).sort((a, b) => rank(records[a]!, records[b]!))
  const keep = new Set<number>()
  let bytes = 0
  for (const i of order) {
    if (keep.size >= limits.count) break
    if (bytes + sizes[i]! > limits.bytes) continue // a smaller one may still fit
    keep.add(i)
    bytes += sizes[i]!
  }
  const kept = records.filter((_, i) => keep.has(i))
  return {
    kept,
    notice:
      `The pod's status file lists ${count(records.length)} downloads, more than PodPull keeps ` +
      `for one pod (${count(limits.count)}, ${mib(limits.bytes)}): it shows the ` +
      `${count(kept.length)} running and most recent ones.`
  }
}

function rank(a: DownloadRecord, b: DownloadRecord): number {
  return group(a) - group(b) || (b.timestamp || 0) - (a.timestamp || 0)
}

function group(r: DownloadRecord): number {
  if (ACTIVE_STATES.includes(r.state)) return 0
  return r.state === 'paused' || r.state === 'error' ? 1 : 2
}

const count = (n: number): string => n.toLocaleString('en-US')
const mib = (n: number): string => `${Math.round(n / (1 << 20))} MiB`
