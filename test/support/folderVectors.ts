// test/vectors/folders.json: what each case should give, in the one shape both
// engines' results are put in (the folder used, or null when refused; the end
// of the refusal sentence, or null when accepted).
import { readVectors, type ScratchLayout } from './vectors'

export interface FolderVectors {
  folderNames: { in: string; out: string | null }[]
  layout: ScratchLayout
  roots: { folder: string; dir: string; isDefault: boolean }[]
  storedDestinations: {
    path: string
    refused: string | null
    withRoots?: boolean
    relative?: boolean
  }[]
}

export const folderVectors = (): FolderVectors => readVectors<FolderVectors>('folders.json')

/** A stored-destination case's path and extra roots inside `scratch`. */
export function storedCase(
  v: FolderVectors,
  c: FolderVectors['storedDestinations'][number],
  scratch: string
): { path: string; roots: FolderVectors['roots'] } {
  return {
    // Joined as written: the vector's unnormalised paths must reach the engines so.
    path: c.relative ? c.path : `${scratch}/${c.path}`,
    roots: c.withRoots === false ? [] : v.roots.map((r) => ({ ...r, dir: `${scratch}/${r.dir}` }))
  }
}

/** The refusal sentence's end after "<path> ", without "; PodPull will not write there." */
export function refusalOf(message: string, path: string): string {
  return message.slice(path.length + 1).replace(/; PodPull will not write there\.$/, '')
}
