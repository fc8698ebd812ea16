// What the content index says about an inventory: each file's sha256, the
// other files with the same bytes, and the groups of duplicates with the bytes
// that linking them would give back.
import { stat } from 'node:fs/promises'
import type { DuplicateGroup, ModelFile } from '../../shared/types'
import { UserError } from '../errors'
import { stampOf, type ContentIndex } from './contentIndex'

const shown = (m: ModelFile): string => `${m.folder}/${m.name}`

/** The models with their indexed hash and "same file as …" (files not hashed yet stay bare). */
export async function withHashes(models: ModelFile[], index: ContentIndex): Promise<ModelFile[]> {
  const hashed = await Promise.all(
    models.map(async (m) => {
      const s = m.path ? await stat(m.path).catch(() => undefined) : undefined
      const sha = s && m.path ? index.get(m.path, stampOf(s)) : null
      return sha ? { ...m, sha256: sha } : m
    })
  )
  return withSameAs(hashed)
}

/** Each hashed model with the other files of the same content ("same file as …"). */
export function withSameAs(hashed: ModelFile[]): ModelFile[] {
  const bySha = groupBySha(hashed)
  return hashed.map((m) => {
    const others = (m.sha256 ? (bySha.get(m.sha256) ?? []) : []).filter((o) => o !== m)
    return others.length ? { ...m, sameAs: others.map(shown) } : m
  })
}

function groupBySha(models: ModelFile[]): Map<string, ModelFile[]> {
  const out = new Map<string, ModelFile[]>()
  for (const m of models) if (m.sha256) out.set(m.sha256, [...(out.get(m.sha256) ?? []), m])
  return out
}

/** The duplicates group of this content, or a clear error when there is none. */
export async function findGroup(
  m: { duplicates(): Promise<DuplicateGroup[]> },
  sha256: string
): Promise<DuplicateGroup> {
  const group = (await m.duplicates()).find((g) => g.sha256 === sha256.toLowerCase())
  if (!group)
    throw new UserError('not-found', 'No duplicated content with that sha256 on this target.')
  return group
}

/** Content stored more than once (the walker lists each inode once, so hard links don't count). */
export function duplicateGroups(hashed: ModelFile[]): DuplicateGroup[] {
  const groups: DuplicateGroup[] = []
  for (const [sha256, files] of groupBySha(hashed)) {
    if (files.length < 2) continue
    const size = files[0]!.size
    groups.push({
      sha256,
      size,
      files: files.map((f) => ({ folder: f.folder, name: f.name, path: f.path ?? '' })),
      reclaimable: size * (files.length - 1)
    })
  }
  return groups.sort((a, b) => b.reclaimable - a.reclaimable)
}
