// Find a content by its hash: the files with it on each target (a sha256, or
// Civitai's AutoV2, the first 10 hex digits of it) and which Civitai model and
// version it is. A target that can't be asked (a pod offline) or a Civitai
// that can't be reached says why, and the rest still answers.
import type { HashLookup } from '../../shared/types'
import type { PodPullCore } from '../core/podpullCore'
import type { SourceServices } from './sourceServices'
import { modelsOf } from './modelsHandlers'

export async function findByHash(
  core: PodPullCore,
  sources: SourceServices,
  q: { hash: string; targetId?: string; civitai: boolean }
): Promise<HashLookup> {
  const hash = q.hash.trim().toLowerCase()
  const infos = core.targetInfos().filter((t) => !q.targetId || t.id === q.targetId)
  if (q.targetId && !infos.length) core.target(q.targetId) // its clear not-found error
  const places = Promise.all(
    infos.map(async (t) => {
      try {
        const inv = await modelsOf(core, t.id).installed()
        const files = inv.models.filter((m) => m.sha256?.startsWith(hash))
        return { targetId: t.id, targetName: t.name, files, error: null }
      } catch (err) {
        return { targetId: t.id, targetName: t.name, files: [], error: (err as Error).message }
      }
    })
  )
  let civitai: HashLookup['civitai'] = null
  let civitaiError: string | null = null
  if (q.civitai && sources.civitaiByHash) {
    try {
      civitai = await sources.civitaiByHash(hash)
    } catch (err) {
      civitaiError = (err as Error).message
    }
  }
  return { hash, places: await places, civitai, civitaiError }
}
