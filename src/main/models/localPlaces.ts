// Where a local target's downloads may live: <ComfyUI>/models plus the folders
// its extra_model_paths.yaml configures (read afresh on every start and
// resume, so an edited file counts at once). The local target asks this for
// a new download's destination, for the re-check of a stored path before a
// resume, and for which status entries are its own.
import { realpathSync } from 'node:fs'
import { realpath } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import type { ModelRoot } from './extraModelPaths'
import { checkStoredDestination, resolveDestination } from './destination'
import { localExtraRoots } from './localModels'
import { trimSlash } from './modelRoots'

/** How long a folder's realpath answer is reused by the synchronous listing check. */
const REAL_DIR_TTL_MS = 1000

export class LocalPlaces {
  readonly modelsDir: string
  /** Extra roots as written and as realpath, for the synchronous owns(). */
  private extraDirs: string[] = []
  private readonly realDirs = new Map<string, { inside: boolean; at: number }>()

  constructor(private readonly comfyui: string) {
    this.modelsDir = join(comfyui, 'models')
  }

  /** The yaml's roots now (none when it is absent or broken). */
  async roots(): Promise<ModelRoot[]> {
    const { roots } = await localExtraRoots(this.comfyui)
    const dirs = roots.map((r) => trimSlash(r.dir))
    const real = await Promise.all(dirs.map((d) => realpath(d).catch(() => d)))
    this.extraDirs = [...new Set([...dirs, ...real])]
    return roots
  }

  async destination(folder: string, filename: string): Promise<string> {
    return resolveDestination(this.modelsDir, folder, filename, await this.roots())
  }

  async checkStored(path: string): Promise<void> {
    await checkStoredDestination(this.modelsDir, path, await this.roots())
  }

  /** A status entry under one of the extra roots (models/ is checked by the target). */
  ownsExtra(path: string): boolean {
    return this.extraDirs.some((d) => path.startsWith(d.endsWith(sep) ? d : d + sep))
  }

  /** Whether `path`'s folder, symlinks resolved, still lies in `realModels` or an
   *  extra root: a key such as models/loras/link/x, with `link` pointing at
   *  /tmp/victim, is written like ours but is not. A folder not there yet has
   *  nothing to lead elsewhere. Answers are kept a second (listing asks often). */
  realDirInside(path: string, realModels: string): boolean {
    const dir = dirname(path)
    const now = Date.now()
    const hit = this.realDirs.get(dir)
    if (hit && now - hit.at < REAL_DIR_TTL_MS) return hit.inside
    let real: string | undefined
    try {
      real = realpathSync(dir)
    } catch {
      real = undefined
    }
    const under = (root: string): boolean => real === root || real!.startsWith(root + sep)
    const inside = real === undefined || under(realModels) || this.extraDirs.some(under)
    if (this.realDirs.size > 10_000) this.realDirs.clear()
    this.realDirs.set(dir, { inside, at: now })
    return inside
  }
}
