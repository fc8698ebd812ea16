// Where a model lands: <models>/<folder>/<filename>, proven inside the models
// folder with realpath (a symlinked sub-folder pointing elsewhere is refused).
import { lstat, mkdir, realpath } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, normalize, relative, sep } from 'node:path'
import { UserError } from '../errors'
import { sanitizeFilename } from './fileNames'

const hasControlChar = (s: string): boolean => [...s].some((c) => c.charCodeAt(0) < 0x20)

export function checkFolder(folder: string): string[] {
  const parts = folder.split(/[/\\]/)
  if (
    isAbsolute(folder) ||
    parts.some((p) => p === '' || p === '.' || p === '..' || hasControlChar(p))
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
  filename: string
): Promise<string> {
  const parts = checkFolder(folder)
  const name = sanitizeFilename(filename)
  if (name !== filename) {
    throw new UserError('unsafe-path', `"${filename.slice(0, 80)}" is not a plain file name.`)
  }
  const dir = join(modelsDir, ...parts)
  await mkdir(dir, { recursive: true })
  const [realModels, realDir] = await Promise.all([realpath(modelsDir), realpath(dir)])
  const rel = relative(realModels, realDir)
  if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
    throw new UserError('unsafe-path', `models/${folder} points outside the models folder.`)
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
 *  symlink components) and inside the models folder, and no symlink at the
 *  final name, the `.part` or its sidecar. */
export async function checkStoredDestination(modelsDir: string, path: string): Promise<void> {
  const refuse = (why: string): UserError =>
    new UserError('unsafe-path', `${path} ${why}; PodPull will not write there.`)
  if (!isAbsolute(path) || normalize(path) !== path) throw refuse('is not a plain absolute path')
  const dir = dirname(path)
  const [realModels, realDir] = await Promise.all([
    realpath(modelsDir).catch(() => null),
    realpath(dir).catch(() => null)
  ])
  if (realDir !== dir) throw refuse('goes through a symbolic link or a missing folder')
  const rel = realModels === null ? '..' : relative(realModels, realDir)
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
    throw refuse('is outside the models folder')
  for (const p of [path, `${path}.part`, `${path}.part.json`]) {
    const s = await lstat(p).catch(() => null)
    if (s?.isSymbolicLink()) throw refuse(`has a symbolic link at ${basename(p)}`)
  }
}
