// The stored mid-download files (test/vectors/golden/<engine>/): what each
// engine left on disk when paused part-way through one fixed file. Paths and
// the server's origin are stored as {ROOT} and {ORIGIN}, put back for wherever
// a test lays them out. record.ts writes them; storedResume.test.ts resumes
// each engine's files with the other engine.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export const GOLDEN_DIR = __dirname
export const ENGINES = ['typescript', 'helper'] as const
export type Engine = (typeof ENGINES)[number]

/** The file every engine was paused in: the model server's content for this seed. */
export const GOLDEN_FILE = {
  urlPath: '/golden/golden.safetensors',
  seed: 'golden-v1',
  size: 512 * 1024,
  /** The server held the body here while the engine was paused. */
  holdAt: 200 * 1024,
  folder: 'checkpoints',
  filename: 'golden.safetensors'
}

/** The files stored, relative to the layout's root (workspace/ and models/ beside each other). */
export const STORED = {
  status: 'workspace/.download_status.json',
  part: `models/${GOLDEN_FILE.folder}/${GOLDEN_FILE.filename}.part`,
  sidecar: `models/${GOLDEN_FILE.folder}/${GOLDEN_FILE.filename}.part.json`
}

const JSON_FILES = [STORED.status, STORED.sidecar]

/** Copies `from` (a real layout) into `to`, the JSON files with `replace` applied. */
function copyLayout(from: string, to: string, replace: (text: string) => string): void {
  for (const rel of Object.values(STORED)) {
    const data = readFileSync(join(from, rel))
    mkdirSync(dirname(join(to, rel)), { recursive: true })
    writeFileSync(join(to, rel), JSON_FILES.includes(rel) ? replace(data.toString('utf8')) : data)
  }
}

const all = (text: string, from: string, to: string): string => text.split(from).join(to)

/** Stores a real layout under `root`, served from `origin`, as the golden files of `engine`. */
export function storeGolden(engine: Engine, root: string, origin: string): void {
  copyLayout(root, join(GOLDEN_DIR, engine), (t) =>
    all(all(t, JSON.stringify(root).slice(1, -1), '{ROOT}'), origin, '{ORIGIN}')
  )
}

/** Lays `engine`'s golden files out under `root`, as if served from `origin`. */
export function layOutGolden(engine: Engine, root: string, origin: string): void {
  copyLayout(join(GOLDEN_DIR, engine), root, (t) =>
    all(all(t, '{ROOT}', JSON.stringify(root).slice(1, -1)), '{ORIGIN}', origin)
  )
}
