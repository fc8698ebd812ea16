// ComfyUI's extra_model_paths.yaml: more folders per model kind, possibly
// outside models/ (an A1111 install, a shared disk). Parsed in TypeScript for
// local targets and pods alike (a pod's file, home and environment come
// through the helper). Read exactly as ComfyUI's utils/extra_config.py reads
// it: PyYAML (YAML 1.1: `yes`/`no`/`on`/`off` are booleans), `base_path`
// through os.path.expanduser then os.path.expandvars and made absolute against
// the file's folder, `is_default` by Python truthiness, each path line joined
// to base_path as written (ComfyUI expands nothing in them) and normalised,
// which drops a trailing slash.
import { createRequire } from 'node:module'
// yaml loads on first use: most commands never read this file (CLI start-up).
const yaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml')
import { kindOfYamlKey } from '../../shared/modelFiles'

export interface ModelRoot {
  /** The model kind, e.g. "checkpoints" ("unet"/"clip" keys made current, as ComfyUI's map_legacy). */
  folder: string
  /** Absolute directory on the target. */
  dir: string
  /** From a section whose `is_default` is true (ComfyUI lists these first). */
  isDefault: boolean
}

/** Keys that name no model folder: ComfyUI pops the first two; custom_nodes
 *  holds code, and the desktop app's download_model_base is a setting. */
const NOT_FOLDERS = new Set(['base_path', 'is_default', 'custom_nodes', 'download_model_base'])

export interface PathOps {
  isAbsolute(p: string): boolean
  join(...p: string[]): string
  normalize(p: string): string
  sep: string
}

/** Where `~` and `$VAR` point, on the machine ComfyUI runs on. */
export interface PathEnv {
  home?: string
  env?: Readonly<Record<string, string | undefined>>
  /** Sentences about lines ComfyUI reads differently from how they look. */
  warnings?: string[]
}

/** The folders the file adds. `yamlDir` is where the file lives (relative
 *  base paths start there, as in ComfyUI). Throws an Error with a clear
 *  message on malformed YAML. */
export function parseExtraModelPaths(
  text: string,
  yamlDir: string,
  path: PathOps,
  where: PathEnv = {}
): ModelRoot[] {
  const doc = load(text)
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return []
  const roots: ModelRoot[] = []
  for (const [name, section] of Object.entries(doc as Record<string, unknown>)) {
    if (!section || typeof section !== 'object' || Array.isArray(section)) continue
    roots.push(...sectionRoots(name, section as Record<string, unknown>, yamlDir, path, where))
  }
  return roots
}

function load(text: string): unknown {
  try {
    // YAML 1.1 is what PyYAML's safe_load reads: `is_default: yes` is true there.
    return yaml().parse(text, { maxAliasCount: 100, version: '1.1' })
  } catch (err) {
    throw new Error(
      `extra_model_paths.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`
    )
  }
}

function sectionRoots(
  name: string,
  s: Record<string, unknown>,
  yamlDir: string,
  path: PathOps,
  where: PathEnv
): ModelRoot[] {
  let base: string | null = null
  if (typeof s.base_path === 'string') {
    base = expandVars(expandUser(s.base_path, path, where.home), path, where)
    if (!path.isAbsolute(base)) base = normPath(path.join(yamlDir, base), path)
  }
  const isDefault = pythonTruthy(s.is_default)
  const roots: ModelRoot[] = []
  for (const [key, value] of Object.entries(s)) {
    if (NOT_FOLDERS.has(key) || typeof value !== 'string') continue
    for (const line of value.split('\n')) {
      if (!line) continue
      if (line.includes('$') || line.startsWith('~'))
        where.warnings?.push(
          `extra_model_paths.yaml (${name}/${key}): ComfyUI expands $VAR and ~ only in base_path, so "${line.slice(0, 200)}" is used as written.`
        )
      const full = base
        ? path.isAbsolute(line)
          ? line
          : path.join(base, line)
        : path.isAbsolute(line)
          ? line
          : path.join(yamlDir, line)
      roots.push({ folder: kindOfYamlKey(key), dir: normPath(full, path), isDefault })
    }
  }
  return roots
}

/** os.path.normpath: normalised, no trailing separator (except the root). */
export function normPath(p: string, path: PathOps): string {
  const n = path.normalize(p)
  return n.length > 1 && !/^[A-Za-z]:[\\/]$/.test(n) ? n.replace(/(?<=.)[\\/]+$/, '') : n
}

/** os.path.expanduser for "~" and "~/…" (another user's "~name" stays as written). */
function expandUser(p: string, path: PathOps, home?: string): string {
  if (!home || !p.startsWith('~')) return p
  const rest = p.slice(1)
  if (rest && !/^[\\/]/.test(rest)) return p
  const h = home.length > 1 ? home.replace(/[\\/]+$/, '') : home
  return (h || path.sep) + rest
}

/** os.path.expandvars: $NAME and ${NAME} (and %NAME% on Windows); a variable
 *  that is not set stays as written, as in Python. */
function expandVars(p: string, path: PathOps, where: PathEnv): string {
  const env = where.env ?? {}
  const lookup = (whole: string, name: string): string => {
    const v = env[name]
    if (v !== undefined) return v
    if (name)
      where.warnings?.push(
        `extra_model_paths.yaml: ${whole} in base_path is not set; it is used as written.`
      )
    return whole
  }
  let out = p.replace(/\$(\w+|\{[^}]*\})/g, (whole, name: string) =>
    lookup(whole, name.startsWith('{') ? name.slice(1, -1) : name)
  )
  if (path.sep === '\\')
    out = out.replace(/%([^%]+)%/g, (whole, name: string) => lookup(whole, name))
  return out
}

/** Python's bool(): what `if is_default:` does with the value PyYAML gave. */
export function pythonTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false
  if (typeof v === 'number') return v !== 0
  if (typeof v === 'string') return v.length > 0
  if (Array.isArray(v)) return v.length > 0
  if (typeof v === 'object') return Object.keys(v).length > 0
  return true
}
