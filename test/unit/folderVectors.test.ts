// The shared folder vectors (test/vectors/folders.json), the TypeScript side:
// which models sub-folders a download may name, and which destinations read
// back from the status file a resume may write to. The helper's side reads the
// same file (test/integration/helperFolders.test.ts).
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkFolder, checkStoredDestination } from '../../src/main/models/destination'
import { folderVectors, refusalOf, storedCase } from '../support/folderVectors'
import { layOutScratch } from '../support/vectors'

const v = folderVectors()

function folderUsed(folder: string): string | null {
  try {
    return checkFolder(folder).join('/')
  } catch (err) {
    expect((err as { code?: string }).code).toBe('unsafe-path')
    return null
  }
}

describe('folder rules both engines apply (test/vectors/folders.json)', () => {
  it.each(v.folderNames.map((c) => [c.in, c.out] as const))('folder %j → %j', (input, out) => {
    expect(folderUsed(input)).toBe(out)
  })

  it('stored destinations: accepted or refused with the same reason', async () => {
    const scratch = layOutScratch(v.layout, 'podpull-foldervec-')
    const got: (string | null)[] = []
    for (const c of v.storedDestinations) {
      const { path, roots } = storedCase(v, c, scratch)
      got.push(
        await checkStoredDestination(join(scratch, 'models'), path, roots).then(
          () => null,
          (err: Error & { code?: string }) => {
            expect(err.code).toBe('unsafe-path')
            return refusalOf(err.message, path)
          }
        )
      )
    }
    expect(got).toEqual(v.storedDestinations.map((c) => c.refused))
  })
})
