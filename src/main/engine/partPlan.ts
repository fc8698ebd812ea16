// Decides what the `.part` becomes in this run: resumed from its sidecar
// (only when the sidecar still describes this very file: same path, size and
// strong validator, whatever link it now comes from) or started clean,
// with its segment plan; and checks the disk can hold what is still to come.
import { stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { strongValidator, type RemoteInfo } from './remoteInfo'
import { MIN_SEGMENT, planSegments, type Segment } from './segmentPlanner'
import { partPath, readSidecar, removePartial, trustworthy, type Sidecar } from './sidecar'
import { MAX_CONNECTIONS, type TransferSetup } from './transfer'
import { EngineError, type EngineJob } from './types'
import { formatBytes } from '../../shared/format'
import { statfsFree } from './verify'

export type PartPlan = Pick<
  TransferSetup,
  'segments' | 'rangesOk' | 'validator' | 'sidecar' | 'hashWhileWriting' | 'connections'
>

/** Resume the `.part` when its sidecar still describes this file; otherwise start clean. */
export async function planPart(
  job: EngineJob,
  cfg: { segmentThreshold: number },
  info: RemoteInfo
): Promise<PartPlan> {
  const validator = strongValidator(info)
  const rangesOk = info.acceptsRanges && info.size !== null
  const size = info.size
  const wanted = Number.isFinite(job.connections) ? Math.floor(job.connections) : 1
  // Several connections only where they pay: ranges work and the file is big enough.
  const connections =
    rangesOk && size !== null && size >= cfg.segmentThreshold
      ? Math.max(1, Math.min(wanted, MAX_CONNECTIONS))
      : 1
  const base: Omit<Sidecar, 'segments' | 'updated'> | undefined =
    size === null
      ? undefined
      : {
          version: 1,
          id: job.id,
          url: job.keepUrl ?? job.url,
          final_path: job.finalPath,
          size,
          etag: info.etag,
          last_modified: info.lastModified,
          sha256: job.sha256?.trim().toLowerCase() || null,
          created: Date.now() / 1000
        }
  const old = await readSidecar(job.finalPath)
  const partSize = await stat(partPath(job.finalPath)).then(
    (s) => s.size,
    () => -1
  )
  const canResume =
    old !== undefined &&
    trustworthy(old) &&
    rangesOk &&
    validator !== null &&
    // Not the URL: a fresh link to the same file (signed links expire) continues it.
    old.final_path === job.finalPath &&
    old.size === size &&
    partSize === size &&
    (info.etag && !info.etag.startsWith('W/')
      ? old.etag === info.etag
      : old.last_modified === info.lastModified)
  if (canResume && base) {
    info.body?.close()
    return {
      segments: old.segments,
      rangesOk,
      validator,
      sidecar: { ...base, created: old.created },
      hashWhileWriting: false,
      connections
    }
  }
  await removePartial(job.finalPath) // stale or foreign: never splice
  const segments: Segment[] =
    connections > 1 && size !== null
      ? planSegments(size, connections, Math.min(MIN_SEGMENT, cfg.segmentThreshold))
      : [{ start: 0, end: size ?? Number.MAX_SAFE_INTEGER, done: 0 }]
  return {
    segments,
    rangesOk,
    validator,
    // Resuming needs ranges and a strong validator; without them a sidecar would only mislead.
    sidecar: rangesOk && validator !== null ? base : undefined,
    // Hashed as it streams only when a sha256 is to be checked (see hashAlong in download.ts).
    hashWhileWriting: !!job.sha256?.trim() && connections === 1,
    connections
  }
}

export async function checkFreeSpace(
  finalPath: string,
  size: number | null,
  done: number,
  cfg: { freeSpace?: (dir: string) => Promise<number> }
): Promise<void> {
  if (size === null) return
  const dir = dirname(finalPath)
  const free = await (cfg.freeSpace ?? statfsFree)(dir)
  const needs = size - done
  if (free >= needs) return
  throw new EngineError(
    'no-space',
    `Not enough free space: needs ${formatBytes(needs)}, ${formatBytes(free)} free at ${dir}.`
  )
}
