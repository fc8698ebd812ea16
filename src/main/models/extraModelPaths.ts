// ComfyUI's extra_model_paths.yaml: more folders per model kind, possibly
// outside models/ (an A1111 install, a shared disk). Parsed in TypeScript for
// local targets and pods alike (a pod's file is read through the helper).
import { createRequire } from 'node:module'
// yaml loads on first use: most commands never read this file (CLI start-up).
const yaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml')
import { canonicalFolder } from './folders'

export interface ModelRoot {
  /** The ComfyUI folder kind, e.g. "checkpoints" (aliases made current: clip → text_encoders). */
  folder: string
  /** Absolute directory on the target. */
  dir: string
  /** From a section with `is_default: true` (ComfyUI lists these first). */
  isDefault: boolean
}

const NOT_FOLDERS = new Set(['base_path', 'is_default', 'custom_nodes', 'download_model_base'])

export interface PathOps {
  isAbsolute(p: string): boolean
  join(...p: string[]): string
  normalize(p: string): string
}

/** The folders the file adds. `yamlDir` is where the file lives (relative
 *  base paths start there, as in ComfyUI); `home` expands "~". Throws a
 *  UserError-like Error with a clear message on malformed YAML. */
export function parseExtraModelPaths(
  text: string,
  yamlDir: string,
  path: PathOps,
  home?: string
): ModelRoot[] {
  let doc: unknown
  try {
    doc = yaml().parse(text, { maxAliasCount: 100 })
  } catch (err) {
    throw new Error(
      `extra_model_paths.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`
    )
  }
  if (!doc || typeof doc !== 'object') return []
  const roots: ModelRoot[] = []
  const expand = (p: string): string => (home && /^~(\/|$)/.test(p) ? home + p.slice(1) : p)
  const abs = (p: string, base: string): string =>
    path.normalize(path.isAbsolute(expand(p)) ? expand(p) : path.join(base, expand(p)))
  for (const section of Object.values(doc as Record<string, unknown>)) {
    if (!section || typeof section !== 'object') continue
    const s = section as Record<string, unknown>
    const base = typeof s.base_path === 'string' ? abs(s.base_path, yamlDir) : yamlDir
    const isDefault = s.is_default === true
    for (const [key, value] of Object.entries(s)) {
      if (NOT_FOLDERS.has(key) || typeof value !== 'string') continue
      for (const line of value.split('\n')) {
        const p = line.trim()
        if (p) roots.push({ folder: canonicalFolder(key), dir: abs(p, base), isDefault })
      }
    }
  }
  return roots
}
