// Every pod's last snapshot (its downloads as last seen, when, its free space
// and ComfyUI folder), one file per pod in `pod-cache/` beside the settings
// file. Kept out of config.json: a busy pod's snapshot runs to megabytes, and
// conf reads and compares config.json whole several times each time a CLI
// command or the app opens it. Each file is parsed once per change.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ParsedFile } from './parsedOnce'
import type { PodCacheEntry } from './storeSchema'

export class PodCacheFiles {
  private readonly files = new Map<string, ParsedFile>()

  constructor(private readonly dir: string) {}

  /** The files of the settings file at `settingsPath`. */
  static beside(settingsPath: string): PodCacheFiles {
    return new PodCacheFiles(join(dirname(settingsPath), 'pod-cache'))
  }

  /** A copy of the pod's snapshot; none when missing or unreadable (it is only a cache). */
  get(id: string): PodCacheEntry | undefined {
    const path = this.path(id)
    if (!path) return undefined
    let file = this.files.get(path)
    if (!file) this.files.set(path, (file = new ParsedFile(path)))
    try {
      const v = file.current() as Partial<PodCacheEntry>
      return Array.isArray(v.records) ? (structuredClone(v) as PodCacheEntry) : undefined
    } catch {
      return undefined
    }
  }

  /** Written whole by atomic rename, so a reader never sees half a file. */
  set(id: string, entry: PodCacheEntry): void {
    const path = this.path(id)
    if (!path) return
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const tmp = `${path}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600 })
    renameSync(tmp, path)
  }

  remove(id: string): void {
    const path = this.path(id)
    if (path) rmSync(path, { force: true })
  }

  /** Target ids are ours (8 hex characters); anything else names no file. */
  private path(id: string): string | null {
    return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? join(this.dir, `${id}.json`) : null
  }
}
