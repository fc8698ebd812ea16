// Before a download whose sha256 is known: when the target already holds that
// content under another name or folder, the new name becomes a hard link to it
// (one file, two names; across file systems a copy) and nothing is fetched.
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { copyFile, link, mkdir, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { renameRetrying } from '../../engine/renameRetry'
import { stampOf, type ContentIndex } from '../../models/contentIndex'

export interface Linked {
  from: string
  by: 'hardlink' | 'copy'
  size: number
}

/** Links `dest` to a file of the index with this content that `mine` accepts; null when none. */
export async function linkSameContent(
  index: ContentIndex,
  sha256: string,
  dest: string,
  mine: (path: string) => boolean
): Promise<Linked | null> {
  const from = (await index.pathsWith(sha256)).find((p) => p !== dest && mine(p))
  if (!from) return null
  await mkdir(dirname(dest), { recursive: true })
  const by = await hardLinkOrCopy(from, dest)
  const s = await stat(dest)
  index.put(dest, stampOf(s), sha256)
  await index.save()
  return { from, by, size: s.size }
}

async function hardLinkOrCopy(from: string, dest: string): Promise<Linked['by']> {
  try {
    await link(from, dest)
    return 'hardlink'
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // Another file system (EXDEV) or one without hard links: a copy, installed atomically.
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw err
  }
  const tmp = `${dest}.link-${randomBytes(4).toString('hex')}.part`
  try {
    await copyFile(from, tmp, constants.COPYFILE_FICLONE)
    await renameRetrying(tmp, dest)
  } finally {
    await rm(tmp, { force: true })
  }
  return 'copy'
}
