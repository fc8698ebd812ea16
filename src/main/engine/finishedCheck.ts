// The checks before a finished `.part` may take the final name: its size, and
// its SHA-256 when one is expected. A failed check removes the download.
import { stat } from 'node:fs/promises'
import { partPath, removePartial } from './sidecar'
import { EngineError } from './types'
import { formatBytes } from '../../shared/format'
import { sha256File } from './verify'

export async function checkFinished(
  finalPath: string,
  got: number,
  expected: number | null,
  expectedSha: string | null,
  streamedSha: string | null,
  signal: AbortSignal
): Promise<string | null> {
  const part = partPath(finalPath)
  const onDisk = (await stat(part)).size
  if ((expected !== null && got !== expected) || onDisk !== got) {
    await removePartial(finalPath)
    throw new EngineError(
      'checksum',
      `The download ended at ${formatBytes(onDisk)} but the file is ${formatBytes(expected ?? got)}; it was removed, try again.`
    )
  }
  if (!expectedSha) return streamedSha
  const sha = streamedSha ?? (await sha256File(part, signal))
  if (sha !== expectedSha) {
    await removePartial(finalPath)
    throw new EngineError(
      'checksum',
      `The downloaded file's SHA-256 (${sha.slice(0, 12)}…) does not match the expected ${expectedSha.slice(0, 12)}…; the download was removed.`
    )
  }
  return sha
}
