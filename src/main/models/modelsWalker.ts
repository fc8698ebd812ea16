// Lists the model files of a local ComfyUI install as ComfyUI lists them:
// every directory under models/ is a model kind (models/unet is
// diffusion_models, models/t2i_adapter is controlnet), the folders
// extra_model_paths.yaml adds are walked as their key's kind, every depth is
// walked, hidden files count and only .git directories are skipped
// (folder_paths.recursive_search), and a file is listed when its kind's
// extensions take it (modelFiles.ts). A directory two kinds share (A1111's
// checkpoints and configs) lists each file once, under the kind whose
// extensions take it. Leftover .part files of downloads that never finished
// are listed apart.
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { ModelFile, PartialModel } from '../../shared/types'
import { kindOfModelsDir, listsFile } from '../../shared/modelFiles'
import type { ModelRoot } from './extraModelPaths'

// Also the old contents a pending "keep one" keeps aside (keepOne.ts).
const PARTIAL = /\.part(\.json)?$|\.part\.json\.tmp-|\.podpull-undo-/
/** ComfyUI follows symlinks at any depth; a directory already on the way
 *  down (a symlink loop) is not entered again, and this bounds the rest. */
const MAX_DEPTH = 64

export interface Inventory {
  models: ModelFile[]
  partials: PartialModel[]
}

interface Walk extends Inventory {
  /** Files already listed (device:inode), so a shared or linked folder lists each once. */
  seen: Set<string>
}

interface Place {
  kind: string
  /** Where the file shows: "loras/flux". */
  folder: string
  fromYaml: boolean
  depth: number
  /** device:inode of the directories on the way down. */
  above: Set<string>
}

export async function walkModels(modelsDir: string, extra: ModelRoot[] = []): Promise<Inventory> {
  const w: Walk = { models: [], partials: [], seen: new Set() }
  const top = await readdir(modelsDir, { withFileTypes: true }).catch(() => [])
  for (const d of top.sort(byName)) {
    // Files straight in models/ belong to no kind; a hidden directory is none either.
    if (d.name.startsWith('.')) continue
    const dir = join(modelsDir, d.name)
    const s = await stat(dir).catch(() => undefined)
    if (!s?.isDirectory()) continue
    const place = { kind: kindOfModelsDir(d.name), folder: d.name, fromYaml: false, depth: 1 }
    await walkDir(dir, { ...place, above: new Set([id(s)]) }, w)
  }
  for (const r of extra) {
    const s = await stat(r.dir).catch(() => undefined)
    if (!s?.isDirectory()) continue
    const place = { kind: r.folder, folder: r.folder, fromYaml: true, depth: 1 }
    await walkDir(r.dir, { ...place, above: new Set([id(s)]) }, w, true)
  }
  const order = (a: { folder: string; name: string }, b: { folder: string; name: string }) =>
    a.folder.localeCompare(b.folder) || a.name.localeCompare(b.name)
  return { models: w.models.sort(order), partials: w.partials.sort(order) }
}

const id = (s: { dev: number; ino: number }): string => `${s.dev}:${s.ino}`
/** Python's sorted() order, which the helper walks in: which of two links to
 *  one file is listed is then the same on both engines. */
const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0

async function walkDir(dir: string, at: Place, w: Walk, extra = false): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const d of entries.sort(byName)) {
    const full = join(dir, d.name)
    const s = await stat(full).catch(() => undefined)
    if (!s) continue
    if (s.isDirectory()) {
      if (d.name === '.git' || at.depth >= MAX_DEPTH || at.above.has(id(s))) continue
      const above = new Set(at.above).add(id(s))
      await walkDir(
        full,
        { ...at, folder: `${at.folder}/${d.name}`, depth: at.depth + 1, above },
        w,
        extra
      )
      continue
    }
    if (s.isFile()) addFile(full, d.name, s, at, w, extra)
  }
}

function addFile(
  full: string,
  name: string,
  s: { size: number; mtimeMs: number; dev: number; ino: number },
  at: Place,
  w: Walk,
  extra: boolean
): void {
  const mtime = Math.floor(s.mtimeMs / 1000)
  if (name.endsWith('.part')) {
    if (w.seen.has(id(s))) return
    w.seen.add(id(s))
    w.partials.push({ folder: at.folder, name: name.slice(0, -5), path: full, size: s.size, mtime })
    return
  }
  if (PARTIAL.test(name) || !listsFile(at.kind, name, at.fromYaml) || w.seen.has(id(s))) return
  w.seen.add(id(s)) // an extra path may point back into models/, or two kinds share a folder
  w.models.push({
    folder: at.folder,
    name,
    size: s.size,
    mtime,
    path: full,
    ...(extra ? { extra: true } : {})
  })
}
