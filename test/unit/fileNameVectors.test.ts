// The shared file-name vectors (test/vectors/filenames.json): the TypeScript
// side. The helper's side reads the same file (test/integration/helper.names.test.ts).
import { describe, expect, it } from 'vitest'
import { sanitizeFilename } from '../../src/main/models/fileNames'
import { readVectors } from '../support/vectors'

interface Case {
  in: string
  out: string | null
}
const vectors = readVectors<{ cases: Case[] }>('filenames.json')

describe('file names from servers, as both engines save them', () => {
  it.each(vectors.cases.map((c) => [c.in, c.out] as const))('%j → %j', (input, out) => {
    if (out === null) expect(() => sanitizeFilename(input)).toThrow(/not a usable file name/)
    else expect(sanitizeFilename(input)).toBe(out)
  })
  it("leaves room for the sidecar's temp name within 255 bytes", () => {
    for (const c of vectors.cases)
      if (c.out !== null)
        expect(Buffer.byteLength(`${c.out}.part.json.tmp-4194304-ffffffff`)).toBeLessThanOrEqual(
          255
        )
  })
})
