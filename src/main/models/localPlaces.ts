// Where a local target's downloads may live: <ComfyUI>/models plus the folders
// its extra_model_paths.yaml configures (read afresh on every start and
// resume, so an edited file counts at once). The local target asks this for
// a new download's destination, for the re-check of a stored path before a
// resume, and for which status entries are its own.
import { realpath } from 'node:fs/promises'
import { join, sep } from 'node:path'
import type { ModelRoot } from './extraModelPaths'
import { checkStoredDestination, resolveDestination } from './destination'
import { localExtraRoots } from './localModels'
import { trimSlash } from './modelRoots'

export class LocalPlaces {
  readonly modelsDir: string
  /** Extra roots as written and as realpath, for the synchronous owns(). */
  private extraDirs: string[] = []

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
}
