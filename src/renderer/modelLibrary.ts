// The model library's arithmetic, apart from any component so it can be
// tested alone: the folder tree with counts and sizes, the search (by name,
// by sha256 or by its AutoV2 prefix as Civitai shows it), the sort, and the
// words for a file's source and hash state.
import type { DownloadRecord, ModelFile, SourceKind } from '../shared/types'

export interface FolderNode {
  /** "" for the root, else "loras" or "loras/flux". */
  path: string
  name: string
  /** Files in this folder and every folder below it. */
  count: number
  size: number
  children: FolderNode[]
}

export type SortKey = 'name' | 'folder' | 'size' | 'mtime' | 'source' | 'hash'
export interface Sort {
  key: SortKey
  dir: 'asc' | 'desc'
}

/** A row of the table: the file plus what the table shows of it. */
export interface LibraryRow {
  file: ModelFile
  /** The key rows are selected by: the absolute path, or folder/name without one. */
  key: string
  source: string
  hash: HashState
}

export type HashState = 'hashed' | 'duplicate' | 'not hashed'

export const rowKey = (m: ModelFile): string => m.path ?? `${m.folder}/${m.name}`

function childOf(node: FolderNode, name: string): FolderNode {
  let c = node.children.find((n) => n.name === name)
  if (!c) {
    c = {
      path: node.path ? `${node.path}/${name}` : name,
      name,
      count: 0,
      size: 0,
      children: []
    }
    node.children.push(c)
  }
  return c
}

function sortTree(node: FolderNode): void {
  node.children.sort((a, b) => a.name.localeCompare(b.name))
  node.children.forEach(sortTree)
}

/** Folders as the files name them ("loras/flux"), each counted up to the root. */
export function folderTree(models: readonly ModelFile[]): FolderNode {
  const root: FolderNode = { path: '', name: 'All folders', count: 0, size: 0, children: [] }
  for (const m of models) {
    let node = root
    node.count++
    node.size += m.size
    for (const part of m.folder.split('/').filter(Boolean)) {
      node = childOf(node, part)
      node.count++
      node.size += m.size
    }
  }
  sortTree(root)
  return root
}

/** The tree flattened in display order, with depth (for a keyboard-walkable list). */
export function flattenTree(node: FolderNode, depth = 0): { node: FolderNode; depth: number }[] {
  return [{ node, depth }, ...node.children.flatMap((c) => flattenTree(c, depth + 1))]
}

const HEX = /^[0-9a-f]+$/

/** Does `m` match the search box? A name part, or — 8 hex characters or more —
 *  the start of its sha256 (Civitai's AutoV2 is its first 10, upper-case). */
export function matchesQuery(m: ModelFile, query: string): boolean {
  const q = query.trim().toLowerCase()
  if (!q) return true
  if (m.name.toLowerCase().includes(q)) return true
  return q.length >= 8 && HEX.test(q) && !!m.sha256?.startsWith(q)
}

export const inFolder = (m: ModelFile, folder: string): boolean =>
  !folder || m.folder === folder || m.folder.startsWith(`${folder}/`)

const SOURCE_WORDS: Record<SourceKind, string> = {
  huggingface: 'Hugging Face',
  civitai: 'Civitai',
  direct: 'Link'
}

/** Where each file on the target came from, as far as PodPull's downloads know. */
export function sourcesByPath(
  records: Iterable<DownloadRecord>,
  targetId: string
): Map<string, string> {
  const out = new Map<string, string>()
  for (const r of records)
    if (r.targetId === targetId && r.state === 'completed')
      out.set(r.path, SOURCE_WORDS[r.source] ?? 'Link')
  return out
}

export function hashState(m: ModelFile): HashState {
  if (!m.sha256) return 'not hashed'
  return m.sameAs?.length ? 'duplicate' : 'hashed'
}

export function libraryRows(
  models: readonly ModelFile[],
  sources: ReadonlyMap<string, string>
): LibraryRow[] {
  return models.map((file) => ({
    file,
    key: rowKey(file),
    source: (file.path && sources.get(file.path)) || 'Found on disk',
    hash: hashState(file)
  }))
}

const compareText = (a: string, b: string): number =>
  a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' })

function compareBy(key: SortKey, a: LibraryRow, b: LibraryRow): number {
  switch (key) {
    case 'name':
      return compareText(a.file.name, b.file.name)
    case 'folder':
      return compareText(a.file.folder, b.file.folder)
    case 'size':
      return a.file.size - b.file.size
    case 'mtime':
      return a.file.mtime - b.file.mtime
    case 'source':
      return compareText(a.source, b.source)
    case 'hash':
      return compareText(a.hash, b.hash)
  }
}

/** Sorted by `sort`, then by folder and name so equal keys keep a stable order. */
export function sortRows(rows: readonly LibraryRow[], sort: Sort): LibraryRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1
  return [...rows].sort(
    (a, b) =>
      sign * compareBy(sort.key, a, b) ||
      compareText(a.file.folder, b.file.folder) ||
      compareText(a.file.name, b.file.name)
  )
}

/** A click on a column head: the same column flips, another starts ascending
 *  (sizes and dates start with the largest / newest, which is what one looks for). */
export function nextSort(current: Sort, key: SortKey): Sort {
  if (current.key === key) return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' }
  return { key, dir: key === 'size' || key === 'mtime' ? 'desc' : 'asc' }
}
