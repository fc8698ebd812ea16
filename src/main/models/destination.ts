// Where a model lands: <models>/<folder>/<filename> — or the folder's root from
// extra_model_paths.yaml (modelRoots.ts) — proven inside that root with
// realpath (a symlinked sub-folder pointing elsewhere is refused).
import { lstat, mkdir, realpath, stat } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, normalize, relative, sep } from 'node:path'
import { UserError } from '../errors'
import type { ModelRoot } from './extraModelPaths'
import { sanitizeFilename } from './fileNames'
import { placeFolder, trimSlash } from './modelRoots'

// C0 controls and DEL: no folder name a user meant.
const hasControlChar = (s: string): boolean =>
  [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)

/** The folder's parts, or an unsafe-path error: a plain relative path under
 *  models/ whose every part is a name (not blank, ".", ".." or with control
 *  characters). The helper applies the same rule (test/vectors/folders.json). */
export function checkFolder(folder: string): string[] {
  const parts = folder.split(/[/\\]/)
  if (
    isAbsolute(folder) ||
    parts.some((p) => p.trim() === '' || p === '.' || p === '..' || hasControlChar(p))
  ) {
    throw new UserError(
      'unsafe-path',
      `The folder "${folder.slice(0, 80)}" must be a sub-folder of models/, like "loras" or "loras/flux".`
    )
  }
  return parts
}

export async function resolveDestination(
  modelsDir: string,
  folder: string,
  filename: string,
  roots: readonly ModelRoot[] = []
): Promise<string> {
  const parts = checkFolder(folder)
  const name = sanitizeFilename(filename)
  if (name !== filename) {
    throw new UserError('unsafe-path', `"${filename.slice(0, 80)}" is not a plain file name.`)
  }
  const place = placeFolder(modelsDir, parts.join('/'), roots)
  if (place.extra && !(await stat(place.root).catch(() => null))?.isDirectory()) {
    throw new UserError(
      'not-found',
      `${place.root}, the ${parts[0]} folder extra_model_paths.yaml sets as the default, does not exist: create it or correct the file.`
    )
  }
  const dir = join(place.root, ...place.parts)
  await mkdir(dir, { recursive: true })
  const [realRoot, realDir] = await Promise.all([realpath(place.root), realpath(dir)])
  const rel = relative(realRoot, realDir)
  if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
    const where = place.extra ? place.root : 'the models folder'
    throw new UserError('unsafe-path', `models/${folder} points outside ${where}.`)
  }
  const finalPath = join(realDir, name)
  const existing = await lstat(finalPath).catch(() => null)
  if (existing?.isSymbolicLink()) {
    throw new UserError(
      'unsafe-path',
      `${finalPath} is a symbolic link; PodPull will not write through it.`
    )
  }
  return finalPath
}

/** Re-checks a destination read back from the status file before a resume
 *  writes there: a plain absolute path, its folder's realpath is itself (no
 *  symlink components) and inside the models folder or one of the folders
 *  extra_model_paths.yaml configures (`roots`), and no symlink at the final
 *  name, the `.part` or its sidecar. */
export async function checkStoredDestination(
  modelsDir: string,
  path: string,
  roots: readonly ModelRoot[] = []
): Promise<void> {
  const refuse = (why: string): UserError =>
    new UserError('unsafe-path', `${path} ${why}; PodPull will not write there.`)
  if (!isAbsolute(path) || normalize(path) !== path) throw refuse('is not a plain absolute path')
  const dir = dirname(path)
  const realDir = await realpath(dir).catch(() => null)
  if (realDir !== dir) throw refuse('goes through a symbolic link or a missing folder')
  if (!(await insideSomeRoot(realDir, modelsDir, roots)))
    throw refuse(
      roots.length
        ? 'is outside the models folder and every folder extra_model_paths.yaml configures'
        : 'is outside the models folder'
    )
  for (const p of [path, `${path}.part`, `${path}.part.json`]) {
    const s = await lstat(p).catch(() => null)
    if (s?.isSymbolicLink()) throw refuse(`has a symbolic link at ${basename(p)}`)
  }
}

/** Inside models/<something>, or in (or below) an extra root itself. */
async function insideSomeRoot(
  realDir: string,
  modelsDir: string,
  roots: readonly ModelRoot[]
): Promise<boolean> {
  const within = async (root: string, allowSelf: boolean): Promise<boolean> => {
    const real = await realpath(root).catch(() => null)
    if (real === null) return false
    const rel = relative(real, realDir)
    return (allowSelf || rel !== '') && !rel.startsWith('..') && !isAbsolute(rel)
  }
  if (await within(modelsDir, false)) return true
  for (const r of roots) if (await within(trimSlash(r.dir), true)) return true
  return false
}
