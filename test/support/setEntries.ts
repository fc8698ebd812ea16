// Model set entries as an export writes them, for the tests that check one:
// a file PodPull downloaded is its link, a file found on disk is its content.
import { createHash } from 'node:crypto'
import type { ModelSetEntry } from '../../src/shared/modelSet'

/** A file found on disk: known only by its sha256. */
export const localEntry = (folder: string, name: string, bytes: Buffer): ModelSetEntry => ({
  source: { kind: 'local' },
  folder,
  name,
  size: bytes.length,
  sha256: createHash('sha256').update(bytes).digest('hex')
})

/** A file downloaded from `url` (no sha256 given at the time). */
export const urlEntry = (
  folder: string,
  name: string,
  served: { url: string; size: number }
): ModelSetEntry => ({
  source: { kind: 'url', url: served.url },
  folder,
  name,
  size: served.size,
  sha256: null
})
