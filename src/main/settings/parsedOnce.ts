// conf (and electron-store, built on it) reads and parses the whole settings
// file on every get. That file also holds every pod's last snapshot, so a
// large one made each call of the CLI or the app parse megabytes again. The
// store keeps its parsed copy and reads the file again only when its stamp
// (device, inode, size, change times) moved; another process's write (the CLI,
// a second app) is an atomic rename or a rewrite, either of which moves it.
import { readFileSync, statSync } from 'node:fs'
import type Conf from 'conf'

/** Within this long of the file's last change, an unchanged stamp does not
 *  prove unchanged contents: two writes inside one tick of the file system's
 *  clock leave the same times. There the text is read (not parsed) and compared. */
const SAME_TICK_MS = 100

type Plain = Record<string, unknown>

/** What identifies one version of the file: where it lives, its size and
 *  change times (ns), as stat gives them. */
interface Stamp {
  dev: bigint
  ino: bigint
  size: bigint
  mtimeNs: bigint
  ctimeNs: bigint
}

/** The file's parsed contents, parsed again only when the file changed. */
export class ParsedFile {
  private parsed: Plain | null = null
  private stamp: Stamp | null = null
  /** Kept only while the stamp alone can't be trusted. */
  private text: string | null | undefined
  private settled = false

  constructor(
    private readonly path: string,
    private readonly now: () => number = Date.now
  ) {}

  current(): Plain {
    const stamp = stampOf(this.path)
    if (this.parsed && this.settled && sameStamp(stamp, this.stamp)) return this.parsed
    const readAt = this.now()
    const text = readText(this.path)
    if (!this.parsed || text !== this.text) {
      // The same rules as conf's own reader for this store: plain JSON, no
      // encryption or schema (storeOptions), a missing file is empty.
      this.parsed = Object.assign(
        Object.create(null) as Plain,
        text === null ? {} : JSON.parse(text)
      )
    }
    // The stamp was taken before the read: at worst it is older than the
    // text, which only costs one more read.
    this.stamp = stamp
    this.settled = stamp !== null && readAt - changedAt(stamp) > SAME_TICK_MS
    this.text = this.settled ? undefined : text
    return this.parsed!
  }

  /** This process wrote the file: read it again on the next call. */
  invalidate(): void {
    this.parsed = null
    this.text = undefined
  }
}

/** Makes `store` keep its parsed copy (see above). Every value handed out is
 *  a copy, as conf's are, so a caller that changes one changes nothing else. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any store shape conf takes
export function parsedOnce<S extends Conf<any>>(store: S): S {
  const file = new ParsedFile(store.path)
  const accessor = storeAccessor(store)
  Object.defineProperty(store, 'store', {
    configurable: true,
    get: () => Object.assign(Object.create(null) as Plain, structuredClone(file.current())),
    set: (value: unknown) => {
      try {
        accessor.set!.call(store, value)
      } finally {
        file.invalidate()
      }
    }
  })
  const get = (key: string, fallback?: unknown): unknown => {
    let v: unknown = file.current()
    // conf's dot notation, for the plain keys this app uses ("podCache.<id>").
    for (const part of key.split('.')) {
      v = v !== null && typeof v === 'object' ? (v as Plain)[part] : undefined
    }
    return v === undefined ? fallback : structuredClone(v)
  }
  store.get = get as S['get']
  return store
}

function storeAccessor(store: object): PropertyDescriptor {
  for (let p: object | null = Object.getPrototypeOf(store); p; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, 'store')
    if (d?.set) return d
  }
  throw new Error('The settings store has no "store" accessor to wrap.')
}

function stampOf(path: string): Stamp | null {
  try {
    const { dev, ino, size, mtimeNs, ctimeNs } = statSync(path, { bigint: true })
    return { dev, ino, size, mtimeNs, ctimeNs }
  } catch {
    return null
  }
}

function sameStamp(a: Stamp | null, b: Stamp | null): boolean {
  if (!a || !b) return a === b
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs
  )
}

/** The later of the stamp's change times, in epoch ms. */
function changedAt(s: Stamp): number {
  return Number((s.mtimeNs > s.ctimeNs ? s.mtimeNs : s.ctimeNs) / 1_000_000n)
}

/** The file's text, or null when there is none. */
function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}
