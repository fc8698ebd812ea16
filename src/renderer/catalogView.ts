// What a catalog card shows: a set's total size, what it holds by folder, and
// per target whether it is installed, partly there or not.
import type { CatalogSet, ModelFile } from '../shared/types'

export type SetMark = 'installed' | 'partly' | 'not'

/** "folder/name" as the catalog names files; a file in a sub-folder of the
 *  catalog's folder ("loras/flux/x") counts under its top folder. */
export const installedKeys = (models: readonly ModelFile[]): Set<string> =>
  new Set(models.map((m) => `${m.folder.split('/')[0]}/${m.name}`))

export function setMark(set: CatalogSet, have: ReadonlySet<string>): { mark: SetMark; n: number } {
  const n = set.files.filter((f) => have.has(`${f.folder}/${f.name}`)).length
  return { mark: n === set.files.length ? 'installed' : n ? 'partly' : 'not', n }
}

/** Known bytes, and whether some file's size is not known (then "at least"). */
export function setSize(set: CatalogSet): { bytes: number; partial: boolean } {
  return {
    bytes: set.files.reduce((n, f) => n + (f.size ?? 0), 0),
    partial: set.files.some((f) => f.size === null)
  }
}

/** "1 checkpoints · 2 loras": how many files go into each folder. */
export function setContents(set: CatalogSet): string {
  const by = new Map<string, number>()
  for (const f of set.files) by.set(f.folder, (by.get(f.folder) ?? 0) + 1)
  return [...by].map(([folder, n]) => `${n} ${folder}`).join(' · ')
}

export function markWords(m: { mark: SetMark; n: number }, total: number): string {
  return m.mark === 'installed'
    ? 'installed'
    : m.mark === 'partly'
      ? `partly (${m.n} of ${total})`
      : 'not installed'
}
