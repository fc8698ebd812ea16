// The files of this computer a set's "local" entries are sent from, and the
// record of which sets were applied where. A "local" entry names no source,
// only its content: whichever local target holds a file with that sha256 has it.
import { createHash } from 'node:crypto'
import type { ModelSet, ModelSetEntry } from '../../shared/modelSet'
import type { AppliedSet, ModelFile } from '../../shared/types'
import type { PodPullCore } from '../core/podpullCore'
import type { TargetModels } from '../models/targetModels'
import { modelsOf } from './modelsHandlers'

/** How many applied sets are remembered (newest first). */
const KEPT_SETS = 20

interface Place {
  models: TargetModels
  files: ModelFile[]
}

/** Finds, for a "local" entry, a file of this computer with its content (the
 *  local targets' inventories are read once per finder). */
export function localFileFinder(
  core: PodPullCore
): (e: ModelSetEntry) => Promise<string | undefined> {
  let places: Promise<Place[]> | null = null
  const load = (): Promise<Place[]> =>
    (places ??= Promise.all(
      core
        .targetInfos()
        .filter((t) => t.config.kind === 'local')
        .map(async (t) => {
          const models = modelsOf(core, t.id)
          const inv = await models.installed().catch(() => null) // unreadable: not a place
          return { models, files: inv?.models ?? [] }
        })
    ))
  return async (e) => {
    if (!e.sha256) return undefined
    for (const p of await load()) {
      const indexed = p.files.find((m) => m.path && m.sha256 === e.sha256)
      if (indexed) return indexed.path
      // A file under the entry's own name the content index has not reached yet.
      const named = p.files.find(
        (m) => m.path && !m.sha256 && m.folder === e.folder && m.name === e.name
      )
      if (named?.path && (await p.models.sha256(named.path).catch(() => null)) === e.sha256)
        return named.path
    }
    return undefined
  }
}

/** One key per set content: applying the same set again updates its record. */
function keyOf(set: ModelSet): string {
  const h = createHash('sha256').update(JSON.stringify([set.name, set.models]))
  return h.digest('hex').slice(0, 16)
}

/** Notes that `set` was applied to the target, for the Sets view of any
 *  PodPull process on this computer (the store is shared by all of them). */
export function rememberApplied(core: PodPullCore, set: ModelSet, targetId: string): void {
  const key = keyOf(set)
  const all = core.store.get('appliedSets') ?? []
  const was = all.find((a) => a.key === key)
  const entry: AppliedSet = {
    key,
    set,
    targetIds: [...new Set([...(was?.targetIds ?? []), targetId])],
    at: Date.now()
  }
  core.store.set('appliedSets', [entry, ...all.filter((a) => a.key !== key)].slice(0, KEPT_SETS))
}

/** The applied sets, newest first, on targets that still exist. */
export function appliedSets(core: PodPullCore): AppliedSet[] {
  const ids = new Set(core.targetInfos().map((t) => t.id))
  return (core.store.get('appliedSets') ?? [])
    .map((a) => ({ ...a, targetIds: a.targetIds.filter((id) => ids.has(id)) }))
    .filter((a) => a.targetIds.length)
}
