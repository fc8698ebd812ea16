// A folder of small JSON files beside the settings file, one per key (a pod's
// snapshot, a volume's usage): kept out of config.json, which conf reads and
// compares whole several times each time a CLI command or the app opens it, so
// data that grows with use would cost every start-up. Each file is written
// whole by atomic rename (a reader never sees half of one), readable by this
// user only, and parsed once per change.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ParsedFile } from './parsedOnce'

export class JsonFileDir<T> {
  private readonly files = new Map<string, ParsedFile>()

  /** `valid`: whether a parsed file holds a T (anything else reads as missing). */
  constructor(
    private readonly dir: string,
    private readonly valid: (v: Record<string, unknown>) => boolean
  ) {}

  /** The folder `name` beside the settings file at `settingsPath`. */
  static pathBeside(settingsPath: string, name: string): string {
    return join(dirname(settingsPath), name)
  }

  /** A copy of the value; none when missing or unreadable (these are caches). */
  get(key: string): T | undefined {
    const path = this.path(key)
    if (!path) return undefined
    let file = this.files.get(path)
    if (!file) this.files.set(path, (file = new ParsedFile(path)))
    try {
      const v = file.current()
      return this.valid(v) ? (structuredClone(v) as T) : undefined
    } catch {
      return undefined
    }
  }

  set(key: string, value: T): void {
    const path = this.path(key)
    if (!path) return
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const tmp = `${path}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 })
    renameSync(tmp, path)
  }

  remove(key: string): void {
    const path = this.path(key)
    if (path) rmSync(path, { force: true })
  }

  /** Keys are ids (a target's 8 hex characters, a RunPod volume id); anything else names no file. */
  private path(key: string): string | null {
    return /^[A-Za-z0-9_-]{1,64}$/.test(key) ? join(this.dir, `${key}.json`) : null
  }
}
