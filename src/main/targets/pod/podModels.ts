// Installed models of a pod, through the helper: the inventory (with the
// pod's extra_model_paths.yaml, read by the helper with the pod's home and
// the variables its base paths name, and parsed here), delete
// and sha256 — computed on the pod, never by copying the file. Also where the
// pod's downloads go: the root the yaml sets for a folder (`folder_root` of
// `start`) and every configured root (`roots` of `resume`'s path re-check).
import { posix } from 'node:path'
import type {
  InstalledModels,
  KeepOnePending,
  ModelFile,
  PartialModel
} from '../../../shared/types'
import type { HelperClient } from '../../ssh/helperClient'
import { parseExtraModelPaths, type ModelRoot } from '../../models/extraModelPaths'
import { placeFolder } from '../../models/modelRoots'
import { withSameAs } from '../../models/sameContent'
import type { TargetModels } from '../../models/targetModels'
import { parseSourceRecords, type SourceRecord } from '../../models/sourceRecord'

export interface PodModelsDeps {
  helper: () => Promise<HelperClient>
  /** <comfyui>/models on the pod. */
  modelsDir: () => Promise<string>
  /** The pod workspace: its content index gives the hashes, its source record the links. */
  workspace: string
}

export class PodModels implements TargetModels {
  constructor(private readonly deps: PodModelsDeps) {}

  private async roots(): Promise<{ roots: ModelRoot[]; warning: string | null }> {
    const helper = await this.deps.helper()
    const comfyui = posix.dirname(await this.deps.modelsDir())
    try {
      // The pod's home and the variables base_path names: ComfyUI expands them there.
      const ans = await helper.call<{
        text?: string | null
        home?: string
        env?: Record<string, string>
      }>('extra-paths', { comfyui })
      if (typeof ans.text !== 'string') return { roots: [], warning: null }
      const warnings: string[] = []
      const roots = parseExtraModelPaths(ans.text, comfyui, posix, {
        home: typeof ans.home === 'string' ? ans.home : '/root',
        env: ans.env && typeof ans.env === 'object' ? ans.env : {},
        warnings
      })
      return { roots, warning: warnings.length ? warnings.join(' ') : null }
    } catch (err) {
      return { roots: [], warning: (err as Error).message }
    }
  }

  private async request(): Promise<{
    workspace: string
    models_dir: string
    roots: ModelRoot[]
    warning: string | null
  }> {
    const { roots, warning } = await this.roots()
    return {
      workspace: this.deps.workspace,
      models_dir: await this.deps.modelsDir(),
      roots,
      warning
    }
  }

  async installed(): Promise<InstalledModels> {
    const { warning, ...req } = await this.request()
    const helper = await this.deps.helper()
    const ans = await helper.call<{ models?: ModelFile[]; partials?: PartialModel[] }>(
      'inventory',
      req
    )
    return {
      models: withSameAs(ans.models ?? []),
      partials: ans.partials ?? [],
      extraRoots: req.roots.map(({ folder, dir }) => ({ folder, dir })),
      warning
    }
  }

  /** `start`'s extra field: the yaml's root for this folder, when it has one. */
  async startFields(folder: string): Promise<{ folder_root?: string }> {
    const { roots } = await this.roots()
    const p = placeFolder(await this.deps.modelsDir(), folder, roots)
    return p.extra ? { folder_root: p.root } : {}
  }

  /** Starts the pod's background hasher unless one runs (it outlives this connection);
   *  `bytesPerSec` caps its disk reads (default 64 MiB/s). */
  async startHashing(o: { bytesPerSec?: number } = {}): Promise<void> {
    const { warning: _w, ...req } = await this.request()
    const rate = o.bytesPerSec ? { bytes_per_sec: o.bytesPerSec } : {}
    await (await this.deps.helper()).call('index-content', { ...req, ...rate })
  }

  /** Stops the pod's background hasher; the files it finished stay in the index. */
  async stopHashing(): Promise<void> {
    await (
      await this.deps.helper()
    ).call('index-content', { workspace: this.deps.workspace, stop: true })
  }

  async keepOne(sha256: string, keep?: string): Promise<KeepOnePending> {
    return this.keepOneCall<KeepOnePending>({ action: 'link', sha256, ...(keep ? { keep } : {}) })
  }

  async settleKeepOne(
    op: string,
    undo: boolean
  ): Promise<{ restored: string[]; reclaimed: number }> {
    return this.keepOneCall({ action: undo ? 'undo' : 'confirm', op })
  }

  async pendingKeepOnes(): Promise<KeepOnePending[]> {
    return (await this.keepOneCall<{ pending: KeepOnePending[] }>({ action: 'pending' })).pending
  }

  private async keepOneCall<T>(args: object): Promise<T> {
    const { warning: _w, ...req } = await this.request()
    const ans = await (
      await this.deps.helper()
    ).call<T & { ok?: boolean }>('keep-one', {
      ...req,
      ...args
    })
    const { ok: _ok, ...rest } = ans
    return rest as T
  }

  /** `resume`'s extra field: every root a stored path may lie in besides models/. */
  async resumeFields(): Promise<{ roots: { folder: string; dir: string }[] }> {
    const { roots } = await this.roots()
    return { roots: roots.map(({ folder, dir }) => ({ folder, dir })) }
  }

  async directoryFor(folder: string): Promise<{ dir: string; extra: boolean }> {
    const { roots } = await this.roots()
    const p = placeFolder(await this.deps.modelsDir(), folder, roots)
    return { dir: posix.join(p.root, ...p.parts), extra: p.extra }
  }

  async remove(path: string): Promise<void> {
    const { warning: _w, ...req } = await this.request()
    await (await this.deps.helper()).call('model-delete', { ...req, path })
  }

  /** The helper sends the record file as it is; it is read here, as for a local target. */
  async sources(): Promise<Map<string, SourceRecord>> {
    const ans = await (
      await this.deps.helper()
    ).call<{ text?: unknown }>('sources', { workspace: this.deps.workspace })
    return parseSourceRecords(typeof ans.text === 'string' ? ans.text : '')
  }

  async sha256(path: string): Promise<string> {
    const { warning: _w, ...req } = await this.request()
    const ans = await (
      await this.deps.helper()
    ).call<{ sha256?: string }>('model-sha256', { ...req, path })
    return String(ans.sha256)
  }
}
