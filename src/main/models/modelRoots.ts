// Which directory a download for a models folder really goes to, with the
// target's extra_model_paths.yaml honoured as ComfyUI honours it: a folder
// that a section marked `is_default: true` maps goes there (ComfyUI puts each
// default path first in the folder's list, so the last one listed wins), and a
// folder ComfyUI does not know at all (only the yaml names it) goes to its
// first extra path. Everything else stays in <ComfyUI>/models/<folder>.
// Pure: the same rule serves local targets and pods (the helper is told the
// chosen root and checks containment against it on the pod).
import type { ModelRoot } from './extraModelPaths'
import { COMFY_FOLDERS, canonicalFolder } from './folders'

const LEGACY = new Set(['unet', 'clip', 't2i_adapter'])
const KNOWN = new Set<string>([...COMFY_FOLDERS, ...LEGACY])

/** The extra root a download into `folder` ("loras" or "loras/flux") goes
 *  to, or undefined for <models>/<folder>. */
export function chooseRoot(folder: string, roots: readonly ModelRoot[]): ModelRoot | undefined {
  const head = folder.split('/')[0]!
  const kind = canonicalFolder(head)
  const mine = roots.filter((r) => r.folder === kind)
  const defaults = mine.filter((r) => r.isDefault)
  if (defaults.length) return defaults[defaults.length - 1]
  if (!KNOWN.has(head) && !KNOWN.has(kind)) return mine[0]
  return undefined
}

export interface Placement {
  /** The directory containment is checked against: models/ or the extra root. */
  root: string
  /** The sub-folders below `root` the file goes in (may be empty for an extra root). */
  parts: string[]
  /** The root comes from extra_model_paths.yaml. */
  extra: boolean
}

/** Where `folder` (already checked to be a plain relative path) lands. */
export function placeFolder(
  modelsDir: string,
  folder: string,
  roots: readonly ModelRoot[]
): Placement {
  const parts = folder.split(/[/\\]/)
  const root = chooseRoot(parts.join('/'), roots)
  return root
    ? { root: trimSlash(root.dir), parts: parts.slice(1), extra: true }
    : { root: modelsDir, parts, extra: false }
}

/** "/data/loras/" → "/data/loras" (the yaml's paths often end in a slash). */
export function trimSlash(dir: string): string {
  return dir.replace(/(?<=.)[\\/]+$/, '')
}
