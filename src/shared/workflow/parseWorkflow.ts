// Every model a ComfyUI workflow needs, from whatever it says: node
// `properties.models` (top-level nodes and nodes inside subgraphs,
// `definitions.subgraphs[].nodes`), the top-level `models` array, and loader
// nodes' widget values (UI format) or inputs (API format) with no metadata.
import { LOADERS, MODEL_EXT } from './loaders'

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

export interface RefusedRef {
  name: string
  directory: string | null
  reason: string
}

export interface ParsedWorkflow {
  format: 'ui' | 'api'
  models: WorkflowModelRef[]
  refused: RefusedRef[]
}

export const MAX_WORKFLOW_CHARS = 32 << 20
const MAX_NODES = 100_000

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() ? v.trim() : undefined

class Collector {
  private readonly byKey = new Map<string, WorkflowModelRef>()
  readonly refused: RefusedRef[] = []
  nodes = 0

  add(
    rawName: string,
    directory: string | null,
    node: string,
    meta: { url?: unknown; hash?: unknown; hash_type?: unknown } = {}
  ): void {
    const name = rawName.replace(/\\/g, '/')
    const problem = unsafe(name, directory)
    if (problem) {
      if (!this.refused.some((r) => r.name === name && r.directory === directory))
        this.refused.push({ name, directory, reason: problem })
      return
    }
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
    if (!ref && !directory) ref = [...this.byKey.values()].find((r) => r.name === name)
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
  }

  list(): WorkflowModelRef[] {
    return [...this.byKey.values()]
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

function addModelsArray(c: Collector, list: unknown, node: string): void {
  if (!Array.isArray(list)) return
  for (const m of list) {
    if (!isObj(m)) continue
    const name = str(m.name)
    if (name) c.add(name, str(m.directory) ?? null, node, m)
  }
}

function uiNode(c: Collector, n: unknown): void {
  if (!isObj(n)) return
  if (++c.nodes > MAX_NODES) throw new Error(`The workflow has more than ${MAX_NODES} nodes.`)
  const type = str(n.type) ?? ''
  const props = isObj(n.properties) ? n.properties : {}
  addModelsArray(c, props.models, type)
  const widgets = Array.isArray(n.widgets_values) ? n.widgets_values : []
  const loader = LOADERS[type]
  if (loader) {
    for (const l of loader) {
      const v = str(widgets[l.widget])
      if (v && (l.folder === 'configs' ? /\.ya?ml$/i.test(v) : true)) c.add(v, l.folder, type)
    }
    return
  }
  // An unknown (custom) node naming a model file: its folder is not known.
  for (const v of widgets) {
    const name = str(v)
    if (name && MODEL_EXT.test(name) && name.length < 512) c.add(name, null, type)
  }
}

function uiGraph(c: Collector, g: Obj): void {
  if (Array.isArray(g.nodes)) g.nodes.forEach((n) => uiNode(c, n))
  addModelsArray(c, g.models, '')
  const defs = isObj(g.definitions) ? g.definitions : {}
  if (Array.isArray(defs.subgraphs)) for (const s of defs.subgraphs) if (isObj(s)) uiGraph(c, s)
}

function apiPrompt(c: Collector, p: Obj): void {
  for (const n of Object.values(p)) {
    if (!isObj(n) || !isObj(n.inputs)) continue
    if (++c.nodes > MAX_NODES) throw new Error(`The workflow has more than ${MAX_NODES} nodes.`)
    const type = str(n.class_type) ?? ''
    const loader = LOADERS[type]
    for (const [k, v] of Object.entries(n.inputs)) {
      const name = str(v)
      if (!name) continue
      const l = loader?.find((x) => x.input === k)
      if (l) c.add(name, l.folder, type)
      else if (!loader && MODEL_EXT.test(name) && name.length < 512) c.add(name, null, type)
    }
  }
}

/** Parses workflow JSON text (UI or API format). Throws a clear Error on anything else. */
export function parseWorkflow(text: string): ParsedWorkflow {
  if (text.length > MAX_WORKFLOW_CHARS)
    throw new Error('The workflow is larger than 32 MiB; that is not a ComfyUI workflow.')
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new Error(
      `This is not a ComfyUI workflow: the JSON does not parse (${(err as Error).message}).`
    )
  }
  if (!isObj(doc)) throw new Error('This is not a ComfyUI workflow: expected a JSON object.')
  const c = new Collector()
  if (Array.isArray(doc.nodes)) {
    uiGraph(c, doc)
    return { format: 'ui', models: c.list(), refused: c.refused }
  }
  if (Object.values(doc).some((n) => isObj(n) && typeof n.class_type === 'string')) {
    apiPrompt(c, doc)
    return { format: 'api', models: c.list(), refused: c.refused }
  }
  throw new Error(
    'This is not a ComfyUI workflow: it has neither "nodes" (UI format) nor nodes with "class_type" (API format).'
  )
}

/** The parsed models as a minimal UI-format workflow (top-level `models`):
 *  what the dashboard sends to main instead of a multi-MB workflow. Main
 *  parses it again, so every safety check still runs there. */
export function compactWorkflow(p: ParsedWorkflow): string {
  return JSON.stringify({
    nodes: [],
    models: p.models.map((m) => ({
      name: m.name,
      directory: m.directory,
      ...(m.url ? { url: m.url } : {}),
      ...(m.sha256 ? { hash: m.sha256, hash_type: 'sha256' } : {})
    }))
  })
}
