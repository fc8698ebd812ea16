// "Add to set" from the model library: the chosen files' entries go into a
// set (a new one, the one open in the Sets view, or one applied before). An
// entry the set already has for the same folder and name is kept as it was:
// adding a selection twice changes nothing.
import type { ModelSet, ModelSetEntry } from '../shared/modelSet'

export interface SetChoice {
  key: string
  label: string
  /** null: a new, empty set. */
  set: ModelSet | null
}

export interface Added {
  set: ModelSet
  added: number
  /** Entries the set already had (same folder and name). */
  already: number
}

const keyOf = (e: Pick<ModelSetEntry, 'folder' | 'name'>): string => `${e.folder}/${e.name}`

export function addEntries(base: ModelSet | null, exported: ModelSet, name: string): Added {
  const set: ModelSet = base
    ? { ...base, models: [...base.models] }
    : { ...exported, name: name.trim() || exported.name, models: [] }
  const have = new Set(set.models.map(keyOf))
  let added = 0
  for (const e of exported.models) {
    if (have.has(keyOf(e))) continue
    have.add(keyOf(e))
    set.models.push(e)
    added++
  }
  return { set, added, already: exported.models.length - added }
}

/** The sets a selection can go into: the open one first, then those applied
 *  before (newest first, one per name). */
export function setChoices(
  open: ModelSet | null,
  applied: readonly { set: ModelSet }[]
): SetChoice[] {
  const out: SetChoice[] = []
  const names = new Set<string>()
  if (open) {
    out.push({ key: 'open', label: `${open.name} (open in Sets)`, set: open })
    names.add(open.name)
  }
  applied.forEach((a, i) => {
    if (names.has(a.set.name)) return
    names.add(a.set.name)
    out.push({ key: `applied-${i}`, label: `${a.set.name} (applied before)`, set: a.set })
  })
  return out
}

/** A set file's name: the set's name made safe for any file system. */
export function setFileName(set: Pick<ModelSet, 'name'>): string {
  const stem = set.name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'models'
  return `${stem}.podpull.json`
}
