// Installed models of a local ComfyUI install. Only a path the inventory
// lists can be deleted or hashed: a request can't name any other file.
import { readFile, rm, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import path from 'node:path'
import type {
  DuplicateGroup,
  HashingProgress,
  InstalledModels,
  KeepOnePending
} from '../../shared/types'
import { sha256File } from '../engine/verify'
import { ContentIndex, stampOf } from './contentIndex'
import { readSourceRecords, type SourceRecord } from './sourceRecord'
import { hashPending } from './contentHasher'
import { duplicateGroups, findGroup, withHashes } from './sameContent'
import { linkOthers, pendingKeepOnes, settleKeepOne } from './keepOne'
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
  /** `workspace` keeps the content index (.podpull/content-index.json). */
  constructor(
    private readonly comfyui: string,
    private readonly workspace: string = comfyui
  ) {}

  sources(): Promise<Map<string, SourceRecord>> {
    return readSourceRecords(this.workspace)
  }

  index(): Promise<ContentIndex> {
    return ContentIndex.forWorkspace(this.workspace).load()
  }

  async installed(): Promise<InstalledModels> {
    const { roots, warning } = await localExtraRoots(this.comfyui)
    const inv = await walkModels(path.join(this.comfyui, 'models'), roots)
    const models = await withHashes(inv.models, await this.index())
    return {
      ...inv,
      models,
      extraRoots: roots.map(({ folder, dir }) => ({ folder, dir })),
      warning
    }
  }

  /** Hashes every model file the content index lacks (a file already hashed is skipped). */
  async indexContent(
    o: {
      signal?: AbortSignal
      onProgress?: (p: HashingProgress) => void
      bytesPerSec?: number
    } = {}
  ): Promise<HashingProgress> {
    const inv = await this.installed()
    const paths = inv.models.flatMap((m) => (m.path && !m.sha256 ? [m.path] : []))
    return hashPending({ ...o, index: await this.index(), paths })
  }

  async duplicates(): Promise<DuplicateGroup[]> {
    return duplicateGroups((await this.installed()).models)
  }

  /** Keeps one copy of a duplicated content and makes every other name a hard
   *  link to it (one inode, all the names), undo-able until settled. */
  async keepOne(sha256: string, keep?: string): Promise<KeepOnePending> {
    const group = await findGroup(this, sha256)
    const kept = keep ?? group.files[0]!.path
    if (!group.files.some((f) => f.path === kept)) throw notListed(kept)
    const res = await linkOthers(this.workspace, group, kept)
    await this.record(res.linked, group.sha256)
    return res
  }

  async settleKeepOne(
    op: string,
    undo: boolean
  ): Promise<{ restored: string[]; reclaimed: number }> {
    const { sha256, ...res } = await settleKeepOne(this.workspace, op, undo)
    await this.record(res.restored, sha256) // the old contents are back, with their own stamps
    return res
  }

  /** These files (just linked or put back) have this content. */
  private async record(paths: string[], sha256: string): Promise<void> {
    const index = await this.index()
    for (const p of paths) index.put(p, stampOf(await stat(p)), sha256)
    await index.save()
  }

  pendingKeepOnes(): Promise<KeepOnePending[]> {
    return pendingKeepOnes(this.workspace)
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
    const m = inv.models.find((x) => x.path === p)
    if (!m) throw notListed(p)
    if (m.sha256) return m.sha256
    const before = await stat(p)
    const sha = await sha256File(p)
    const index = await this.index()
    index.put(p, stampOf(before), sha)
    await index.save()
    return sha
  }
}

export function notListed(p: string): UserError {
  return new UserError('not-found', `${p.slice(0, 300)} is not one of this target's model files.`)
}
