// Where a model lands: <models>/<folder>/<filename>, proven inside the models
// folder with realpath (a symlinked sub-folder pointing elsewhere is refused).
import { lstat, mkdir, realpath } from 'node:fs/promises'
import { isAbsolute, join, relative, sep } from 'node:path'
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
