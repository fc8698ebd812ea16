// Installed models of a local ComfyUI install. Only a path the inventory
// lists can be deleted or hashed: a request can't name any other file.
import { readFile, rm } from 'node:fs/promises'
import { homedir } from 'node:os'
import path from 'node:path'
import type { InstalledModels } from '../../shared/types'
import { sha256File } from '../engine/verify'
import { UserError } from '../errors'
import { parseExtraModelPaths, type ModelRoot } from './extraModelPaths'
import { walkModels } from './modelsWalker'
import { placeFolder } from './modelRoots'
import type { TargetModels } from './targetModels'

const MAX_YAML = 1 << 20

export async function localExtraRoots(
  comfyui: string
): Promise<{ roots: ModelRoot[]; warning: string | null }> {
  const file = path.join(comfyui, 'extra_model_paths.yaml')
  const text = await readFile(file, 'utf8').catch(() => null)
  if (text === null) return { roots: [], warning: null }
  if (text.length > MAX_YAML)
    return { roots: [], warning: `${file} is larger than 1 MiB; it was not read.` }
  try {
    const warnings: string[] = []
    const roots = parseExtraModelPaths(text, comfyui, path, {
      home: homedir(),
      env: process.env,
      warnings
    })
    return { roots, warning: warnings.length ? warnings.join(' ') : null }
  } catch (err) {
    return { roots: [], warning: (err as Error).message }
  }
}

export class LocalModels implements TargetModels {
  constructor(private readonly comfyui: string) {}

  async installed(): Promise<InstalledModels> {
    const { roots, warning } = await localExtraRoots(this.comfyui)
    const inv = await walkModels(path.join(this.comfyui, 'models'), roots)
    return { ...inv, extraRoots: roots.map(({ folder, dir }) => ({ folder, dir })), warning }
  }

  async directoryFor(folder: string): Promise<{ dir: string; extra: boolean }> {
    const { roots } = await localExtraRoots(this.comfyui)
    const p = placeFolder(path.join(this.comfyui, 'models'), folder, roots)
    return { dir: path.join(p.root, ...p.parts), extra: p.extra }
  }

  async remove(p: string): Promise<void> {
    const inv = await this.installed()
    if (inv.models.some((m) => m.path === p)) return rm(p)
    const part = inv.partials.find((m) => m.path === p)
    if (!part) throw notListed(p)
    await rm(p, { force: true })
    await rm(`${p}.json`, { force: true })
  }

  async sha256(p: string): Promise<string> {
    const inv = await this.installed()
    if (!inv.models.some((m) => m.path === p)) throw notListed(p)
    return sha256File(p)
  }
}

export function notListed(p: string): UserError {
  return new UserError('not-found', `${p.slice(0, 300)} is not one of this target's model files.`)
}
