// The downloads this PodPull started on a target, or that its user resumed by
// hand: the only ones it resumes by itself, and so the only ones a token goes
// out for without being asked. A status file is writable by whatever runs on
// its machine; an entry planted there (an HF link, a path like
// /etc/x.safetensors) must not make PodPull hand a pod the user's tokens.
// Kept in the settings store, so the app and the CLI know each other's jobs.

/** id → the status-file path it was started for. */
export type OwnJobMap = Record<string, string>

export interface OwnJobs {
  /** Whether this PodPull started (or its user resumed) job `id` at `path`. */
  has(id: string, path: string): boolean
  add(id: string, path: string): void
}

/** Enough for every download a user keeps listed; the oldest go first. */
const MAX_KEPT = 2000

function withJob(map: OwnJobMap, id: string, path: string): OwnJobMap {
  const next = { ...map }
  delete next[id] // re-added last: the newest
  next[id] = path
  const ids = Object.keys(next)
  for (const old of ids.slice(0, Math.max(0, ids.length - MAX_KEPT))) delete next[old]
  return next
}

/** Jobs kept in memory only (tests; a target built just to be tried). */
export function memoryOwnJobs(): OwnJobs {
  let map: OwnJobMap = {}
  return {
    has: (id, path) => map[id] === path,
    add: (id, path) => void (map = withJob(map, id, path))
  }
}

/** Jobs of one target in the settings store (`ownJobs[targetId]`). */
export function storedOwnJobs(
  read: () => Record<string, OwnJobMap>,
  write: (all: Record<string, OwnJobMap>) => void,
  targetId: string
): OwnJobs {
  return {
    has: (id, path) => read()[targetId]?.[id] === path,
    add: (id, path) => {
      const all = read()
      if (all[targetId]?.[id] === path) return
      write({ ...all, [targetId]: withJob(all[targetId] ?? {}, id, path) })
    }
  }
}
