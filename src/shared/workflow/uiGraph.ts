// A UI-format workflow's nodes walked the way ComfyUI's frontend walks them
// (its workflow flattening and missing-models scan): the root nodes, then
// each subgraph definition once per node that instantiates it; a node counts
// only when neither it nor a subgraph node around it is muted (mode 2) or
// bypassed (mode 4). A node's `properties.models` entries count only when one
// of its widget values selects them; the workflow's top-level `models` only
// when an active node names them; definitions no node instantiates only as
// "not used".
import { Collector, isObj, str, type ModelMeta, type Obj } from './collector'
import { LOADERS } from './loaders'
import { inactiveReason, type UnusedReason } from './unusedReasons'

interface Walk {
  c: Collector
  defs: Map<string, Obj>
  /** Definitions some node instantiates. */
  reached: Set<string>
  /** definition id + the reason its nodes are inactive: walked once each. */
  done: Set<string>
  /** Names an active node selects or declares (for the top-level `models`). */
  named: Set<string>
}

const nodesOf = (g: Obj): Obj[] => (Array.isArray(g.nodes) ? g.nodes.filter(isObj) : [])

/** Every subgraph definition, nested ones included, by id. */
function definitions(g: Obj, out = new Map<string, Obj>()): Map<string, Obj> {
  const defs =
    isObj(g.definitions) && Array.isArray(g.definitions.subgraphs) ? g.definitions.subgraphs : []
  for (const d of defs) {
    const id = isObj(d) ? str(d.id) : undefined
    if (!id || out.has(id)) continue
    out.set(id, d as Obj)
    definitions(d as Obj, out)
  }
  return out
}

function widgetValues(n: Obj): unknown[] {
  const w = n.widgets_values
  return Array.isArray(w) ? w : isObj(w) ? Object.values(w) : []
}

function walkNodes(w: Walk, nodes: Obj[], outer: UnusedReason | undefined, stack: string[]): void {
  for (const n of nodes) {
    w.c.countNode()
    const reason = outer ?? inactiveReason(n.mode, false)
    const type = str(n.type) ?? ''
    const def = w.defs.get(type)
    if (def) {
      // A subgraph node's own widgets mirror its inner nodes' (promoted widgets).
      if (!reason) for (const v of widgetValues(n)) if (typeof v === 'string') w.named.add(v)
      w.reached.add(type)
      const inner = outer ?? inactiveReason(n.mode, true)
      if (stack.includes(type) || w.done.has(`${type}|${inner ?? ''}`)) continue
      w.done.add(`${type}|${inner ?? ''}`)
      walkNodes(w, nodesOf(def), inner, [...stack, type])
      continue
    }
    nodeModels(w, n, type, reason)
  }
}

function nodeModels(w: Walk, n: Obj, type: string, reason: UnusedReason | undefined): void {
  const values = widgetValues(n)
  const selected = new Set(values.filter((v): v is string => typeof v === 'string' && !!v.trim()))
  if (!reason) for (const v of selected) w.named.add(v)
  const declared =
    isObj(n.properties) && Array.isArray(n.properties.models) ? n.properties.models : []
  for (const m of declared) {
    const name = isObj(m) && typeof m.name === 'string' ? m.name : undefined
    if (!name || !str(name)) continue
    if (!reason) w.named.add(name)
    const why =
      reason ?? (selected.has(name) ? undefined : 'its node lists it but does not select it')
    w.c.add(name, str((m as Obj).directory) ?? null, type, m as ModelMeta, why)
  }
  if (LOADERS[type]) values.forEach((v, i) => w.c.addLoaderValue(type, v, i, reason))
  else for (const v of values) w.c.addLooseValue(type, v, reason)
}

/** The workflow's own `models` list: needed only when an active node names the file. */
function topLevelModels(w: Walk, g: Obj): void {
  for (const m of Array.isArray(g.models) ? g.models.filter(isObj) : []) {
    const name = typeof m.name === 'string' ? m.name : undefined
    if (!name || !str(name)) continue
    const why = w.named.has(name) ? undefined : 'the workflow lists it, but no node uses it'
    w.c.add(name, str(m.directory) ?? null, '', m as ModelMeta, why)
  }
}

export function uiGraphModels(c: Collector, g: Obj): void {
  const w: Walk = { c, defs: definitions(g), reached: new Set(), done: new Set(), named: new Set() }
  walkNodes(w, nodesOf(g), undefined, [])
  for (const [id, def] of w.defs)
    if (!w.reached.has(id))
      walkNodes(w, nodesOf(def), 'it is in a subgraph the workflow does not use', [id])
  topLevelModels(w, g)
}
