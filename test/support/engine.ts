// Runs the download engine directly, as the engine tests need it: fast retries
// and stall detection, every progress report kept, an AbortController to pause
// or cancel with.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { runDownload } from '../../src/main/engine/download'
import type {
  EngineJob,
  EngineOptions,
  EngineProgress,
  EngineResult
} from '../../src/main/engine/types'
import type { ServedFile } from '../harness/modelServer'

export interface EngineRun {
  result: Promise<EngineResult>
  ctl: AbortController
  progress: EngineProgress[]
}

export function startEngine(
  f: ServedFile,
  finalPath: string,
  job: Partial<EngineJob> = {},
  opts: Partial<EngineOptions> = {}
): EngineRun {
  const ctl = new AbortController()
  const progress: EngineProgress[] = []
  const result = runDownload(
    { id: 'a1b2c3d4e5f60718', url: f.url, finalPath, connections: 1, ...job },
    {
      signal: ctl.signal,
      onProgress: (p) => progress.push(p),
      auth: () => undefined,
      retryBaseMs: 20,
      stallTimeoutMs: 2000,
      ...opts
    }
  )
  return { result, ctl, progress }
}

/** sha256 of a whole file, hex. */
export const fileSha = (path: string): string =>
  createHash('sha256').update(readFileSync(path)).digest('hex')
