// Lists the model files of a local ComfyUI install: models/<folder>/… plus the
// folders extra_model_paths.yaml adds, and the leftover .part files of
// downloads that never finished (moved here from the local target).
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { ModelFile, PartialModel } from '../../shared/types'
import type { ModelRoot } from './extraModelPaths'

const PARTIAL = /\.part(\.json)?$|\.part\.json\.tmp-/
const MAX_DEPTH = 4

export interface Inventory {
  models: ModelFile[]
  partials: PartialModel[]
}

interface Walk extends Inventory {
  seen: Set<string>
}

/** Model files under models/ (depth ≤ 4), folder by folder; hidden files skipped. */
export async function walkModels(modelsDir: string, extra: ModelRoot[] = []): Promise<Inventory> {
  const w: Walk = { models: [], partials: [], seen: new Set() }
  await walkDir(modelsDir, '', w, 0, false)
  for (const r of extra) await walkDir(r.dir, r.folder, w, 1, true)
  const order = (a: { folder: string; name: string }, b: { folder: string; name: string }) =>
    a.folder.localeCompare(b.folder) || a.name.localeCompare(b.name)
  return { models: w.models.sort(order), partials: w.partials.sort(order) }
}

async function walkDir(
  dir: string,
  folder: string,
  w: Walk,
  depth: number,
  extra: boolean
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const d of entries) {
    if (d.name.startsWith('.')) continue
    const full = join(dir, d.name)
    const s = await stat(full).catch(() => undefined)
    if (!s) continue
    if (s.isDirectory()) {
      if (depth < MAX_DEPTH)
        await walkDir(full, folder ? `${folder}/${d.name}` : d.name, w, depth + 1, extra)
      continue
    }
    if (!s.isFile() || !folder || w.seen.has(full)) continue
    w.seen.add(full) // an extra path may point back into models/
    if (d.name.endsWith('.part')) {
      w.partials.push({
        folder,
        name: d.name.slice(0, -5),
        path: full,
        size: s.size,
        mtime: Math.floor(s.mtimeMs / 1000)
      })
    } else if (!PARTIAL.test(d.name)) {
      w.models.push({
        folder,
        name: d.name,
        size: s.size,
        mtime: Math.floor(s.mtimeMs / 1000),
        path: full,
        ...(extra ? { extra: true } : {})
      })
    }
  }
}
