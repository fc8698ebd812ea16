// Every model a ComfyUI workflow needs, decided as ComfyUI's frontend decides
// it (its missing-models scan): loader nodes' widget values (UI format) or
// inputs (API format), a node's `properties.models` entries that one of its
// widget values selects, and the workflow's top-level `models` entries some
// node uses. A node that is muted (mode 2) or bypassed (mode 4), or sits
// inside a muted or bypassed subgraph node, needs nothing; nor does a
// subgraph definition no node instantiates. What is left out that way is
// kept apart, with the reason, as "not used by this workflow".
import {
  Collector,
  isObj,
  str,
  type Obj,
  type RefusedRef,
  type UnusedRef,
  type WorkflowModelRef
} from './collector'
import { LOADERS } from './loaders'
import { uiGraphModels } from './uiGraph'
import { UNUSED_REASONS } from './unusedReasons'

export type { RefusedRef, UnusedRef, WorkflowModelRef } from './collector'

export interface ParsedWorkflow {
  format: 'ui' | 'api'
  models: WorkflowModelRef[]
  /** Named by the workflow but not needed by it: never downloaded. */
  unused: UnusedRef[]
  refused: RefusedRef[]
}

export const MAX_WORKFLOW_CHARS = 32 << 20

function apiPrompt(c: Collector, p: Obj): void {
  // An API prompt holds only the nodes that run: ComfyUI leaves muted and
  // bypassed ones out when it makes one.
  for (const n of Object.values(p)) {
    if (!isObj(n) || !isObj(n.inputs)) continue
    c.countNode()
    const type = str(n.class_type) ?? ''
    for (const [k, v] of Object.entries(n.inputs)) {
      if (LOADERS[type]) c.addLoaderValue(type, v, k)
      else c.addLooseValue(type, v)
    }
  }
}

/** PodPull's own compact form (compactWorkflow): the parsed lists, nothing else. */
function compactModels(c: Collector, doc: Obj): void {
  const entries = (list: unknown): Obj[] => (Array.isArray(list) ? list.filter(isObj) : [])
  for (const m of entries(doc.models)) {
    const name = str(m.name)
    if (name) c.add(name, str(m.directory) ?? null, '', m)
  }
  for (const m of entries(doc.unused_models)) {
    const name = str(m.name)
    const reason = UNUSED_REASONS.find((r) => r === m.reason) ?? 'the workflow does not use it'
    if (name) c.add(name, str(m.directory) ?? null, '', m, reason)
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
  if (doc.podpull_models === 1) {
    compactModels(c, doc)
    return c.result('ui')
  }
  if (Array.isArray(doc.nodes)) {
    uiGraphModels(c, doc)
    return c.result('ui')
  }
  if (Object.values(doc).some((n) => isObj(n) && typeof n.class_type === 'string')) {
    apiPrompt(c, doc)
    return c.result('api')
  }
  throw new Error(
    'This is not a ComfyUI workflow: it has neither "nodes" (UI format) nor nodes with "class_type" (API format).'
  )
}

/** The parsed models as PodPull's compact workflow: what the dashboard sends
 *  to main instead of a multi-MB workflow. Main parses it again, so every
 *  safety check still runs there. */
export function compactWorkflow(p: ParsedWorkflow): string {
  const entry = (m: WorkflowModelRef) => ({
    name: m.name,
    directory: m.directory,
    ...(m.url ? { url: m.url } : {}),
    ...(m.sha256 ? { hash: m.sha256, hash_type: 'sha256' } : {})
  })
  return JSON.stringify({
    podpull_models: 1,
    nodes: [],
    models: p.models.map(entry),
    unused_models: p.unused.map((m) => ({ ...entry(m), reason: m.reason }))
  })
}
