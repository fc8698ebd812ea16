// The content index of a workspace: the sha256 of every model file, keyed by
// absolute path and remembered with the size and mtime it had when hashed, so
// a file is hashed once and a changed file (other size or mtime) is hashed
// again. Kept at <workspace>/.podpull/content-index.json in the format
// docs/formats.md describes; the pod helper keeps the same file on a pod.
// Several processes may write it: a save merges with what is on disk.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { renameRetrying } from '../engine/renameRetry'

export const CONTENT_INDEX_VERSION = 1

export interface IndexedFile {
  size: number
  /** Whole milliseconds (Python: st_mtime_ns // 1_000_000). */
  mtimeMs: number
  sha256: string
  /** Epoch seconds it was recorded: the newer of two processes' answers wins a merge. */
  at: number
}

export interface FileStamp {
  size: number
  mtimeMs: number
}

export const contentIndexPath = (workspace: string): string =>
  join(workspace, '.podpull', 'content-index.json')

const SHA = /^[0-9a-f]{64}$/

function parse(text: string): Map<string, IndexedFile> {
  const out = new Map<string, IndexedFile>()
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return out // a torn or foreign file: start afresh, it is only a cache
  }
  const files = (v as { files?: unknown })?.files
  if (typeof files !== 'object' || files === null) return out
  for (const [p, f] of Object.entries(files as Record<string, Partial<IndexedFile>>)) {
    if (typeof f?.size !== 'number' || typeof f.mtimeMs !== 'number') continue
    if (typeof f.sha256 !== 'string' || !SHA.test(f.sha256)) continue
    out.set(p, { size: f.size, mtimeMs: f.mtimeMs, sha256: f.sha256, at: f.at ?? 0 })
  }
  return out
}

export const stampOf = (s: { size: number; mtimeMs: number }): FileStamp => ({
  size: s.size,
  mtimeMs: Math.floor(s.mtimeMs)
})

export class ContentIndex {
  private files = new Map<string, IndexedFile>()
  private dirty = new Set<string>()

  constructor(readonly file: string) {}

  static forWorkspace(workspace: string): ContentIndex {
    return new ContentIndex(contentIndexPath(workspace))
  }

  async load(): Promise<this> {
    this.files = parse(await readFile(this.file, 'utf8').catch(() => ''))
    this.dirty.clear()
    return this
  }

  /** The hash recorded for `path`, when the file still has the size and mtime it had then. */
  get(path: string, s: FileStamp): string | null {
    const f = this.files.get(path)
    return f && f.size === s.size && f.mtimeMs === s.mtimeMs ? f.sha256 : null
  }

  put(path: string, s: FileStamp, sha256: string): void {
    this.files.set(path, { ...s, sha256: sha256.toLowerCase(), at: Date.now() / 1000 })
    this.dirty.add(path)
  }

  /** Paths recorded with this content that still are what was hashed. */
  async pathsWith(sha256: string): Promise<string[]> {
    const want = sha256.toLowerCase()
    const out: string[] = []
    for (const [p, f] of this.files) {
      if (f.sha256 !== want) continue
      const s = await stat(p).catch(() => undefined)
      if (s?.isFile() && this.get(p, stampOf(s)) === want) out.push(p)
    }
    return out
  }

  /** Writes this process's new entries, merged with what others wrote meanwhile. */
  async save(): Promise<void> {
    if (!this.dirty.size) return
    const onDisk = parse(await readFile(this.file, 'utf8').catch(() => ''))
    for (const p of this.dirty) {
      const mine = this.files.get(p)
      const theirs = onDisk.get(p)
      if (mine && (!theirs || theirs.at <= mine.at)) onDisk.set(p, mine)
    }
    this.files = onDisk
    this.dirty.clear()
    await mkdir(dirname(this.file), { recursive: true })
    const tmp = `${this.file}.tmp-${randomBytes(4).toString('hex')}`
    const files = Object.fromEntries([...onDisk].sort(([a], [b]) => (a < b ? -1 : 1)))
    await writeFile(tmp, JSON.stringify({ version: CONTENT_INDEX_VERSION, files }))
    await renameRetrying(tmp, this.file)
  }
}
