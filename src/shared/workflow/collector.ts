// What a workflow names, collected as its nodes are walked: the models it
// needs, those it names without needing them (with the reason), and names
// that would leave the models folder (refused, never downloaded).
import { listsFile } from '../modelFiles'
import { LOADERS, MODEL_EXT, valueFolder } from './loaders'
import type { UnusedReason } from './unusedReasons'

export interface WorkflowModelRef {
  /** File name as ComfyUI lists it, sub-folder included ("flux/ae.safetensors"). */
  name: string
  /** ComfyUI folder ("vae"); null when only an unknown node names the file. */
  directory: string | null
  url?: string
  sha256?: string
  /** Node types that use it. */
  nodes: string[]
}

export interface UnusedRef extends WorkflowModelRef {
  /** Why the workflow does not need it ("its node is bypassed"). */
  reason: UnusedReason
}

export interface RefusedRef {
  name: string
  directory: string | null
  reason: string
}

export const MAX_NODES = 100_000

export type Obj = Record<string, unknown>
export const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
export const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() ? v.trim() : undefined

export interface ModelMeta {
  url?: unknown
  hash?: unknown
  hash_type?: unknown
}

class RefList {
  private readonly byKey = new Map<string, WorkflowModelRef>()

  add(name: string, directory: string | null, node: string, meta: ModelMeta): WorkflowModelRef {
    const key = `${directory ?? '?'}/${name}`
    let ref = this.byKey.get(key)
    if (!ref && directory) {
      // A name first seen on an unknown node now has its folder.
      const loose = this.byKey.get(`?/${name}`)
      if (loose) {
        this.byKey.delete(`?/${name}`)
        ref = { ...loose, directory }
        this.byKey.set(key, ref)
      }
    }
    if (!ref && !directory) ref = this.find(name, null)
    if (!ref) {
      ref = { name, directory, nodes: [] }
      this.byKey.set(key, ref)
    }
    const url = str(meta.url)
    if (url && !ref.url && /^https?:\/\//i.test(url)) ref.url = url
    const hash = str(meta.hash)?.toLowerCase()
    const hashType = str(meta.hash_type)?.toLowerCase() ?? 'sha256'
    if (hash && hashType === 'sha256' && /^[0-9a-f]{64}$/.test(hash)) ref.sha256 = hash
    if (node && !ref.nodes.includes(node)) ref.nodes.push(node)
    return ref
  }

  /** The entry for this name (in this folder, when one is given). */
  find(name: string, directory: string | null): WorkflowModelRef | undefined {
    if (directory) return this.byKey.get(`${directory}/${name}`) ?? this.byKey.get(`?/${name}`)
    return [...this.byKey.values()].find((r) => r.name === name)
  }

  list(): WorkflowModelRef[] {
    return [...this.byKey.values()]
  }
}

/** Collects what a workflow names: needed, or left out with a reason. */
export class Collector {
  private readonly used = new RefList()
  private readonly skipped = new RefList()
  private readonly reasons = new Map<WorkflowModelRef, UnusedReason>()
  readonly refused: RefusedRef[] = []
  nodes = 0

  countNode(): void {
    if (++this.nodes > MAX_NODES) throw new Error(`The workflow has more than ${MAX_NODES} nodes.`)
  }

  /** A model the workflow needs (`reason` undefined) or names without needing it. */
  add(
    rawName: string,
    directory: string | null,
    node: string,
    meta: ModelMeta = {},
    reason?: UnusedReason
  ): void {
    const name = rawName.replace(/\\/g, '/')
    const problem = unsafe(name, directory)
    if (problem) {
      if (!this.refused.some((r) => r.name === name && r.directory === directory))
        this.refused.push({ name, directory, reason: problem })
      return
    }
    if (!reason) {
      this.used.add(name, directory, node, meta)
      return
    }
    const ref = this.skipped.add(name, directory, node, meta)
    if (!this.reasons.has(ref)) this.reasons.set(ref, reason)
  }

  /** A loader node's value: a file of its folder, unless ComfyUI builds it in. */
  addLoaderValue(
    type: string,
    value: unknown,
    widget: number | string,
    reason?: UnusedReason
  ): void {
    const loader = LOADERS[type]
    const input = loader?.find((l) => (typeof widget === 'number' ? l.widget : l.input) === widget)
    const v = str(value)
    if (!input || !v || v.length >= 512) return
    const folder = valueFolder(type, input, v)
    if (folder && listsFile(folder, v)) this.add(v, folder, type, {}, reason)
  }

  /** A custom node's value naming a model file: its folder is not known. */
  addLooseValue(type: string, value: unknown, reason?: UnusedReason): void {
    const v = str(value)
    if (v && MODEL_EXT.test(v) && v.length < 512) this.add(v, null, type, {}, reason)
  }

  result(format: 'ui' | 'api'): {
    format: 'ui' | 'api'
    models: WorkflowModelRef[]
    unused: UnusedRef[]
    refused: RefusedRef[]
  } {
    const models = this.used.list()
    // A model some active node needs is needed, whatever else names it.
    const unused = this.skipped
      .list()
      .filter((r) => !this.used.find(r.name, r.directory))
      .map((r) => ({ ...r, reason: this.reasons.get(r)! }))
    return { format, models, unused, refused: this.refused }
  }
}

function unsafe(name: string, directory: string | null): string | undefined {
  const bad = (p: string): boolean =>
    p.startsWith('/') ||
    /^[A-Za-z]:/.test(p) ||
    p.split('/').some((s) => s === '..' || s === '.' || s === '') ||
    [...p].some((c) => c.charCodeAt(0) < 0x20)
  if (bad(name)) return `"${name.slice(0, 100)}" is not a plain name inside the models folder.`
  if (directory !== null && bad(directory))
    return `The folder "${directory.slice(0, 100)}" leaves the models folder.`
  return undefined
}
