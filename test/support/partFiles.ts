// What a download's `.part.json` sidecar says, for tests that must act only once
// the bytes a server sent are recorded (a kill before that loses them).
import { readFileSync } from 'node:fs'

/** Bytes a `.part.json` sidecar records as written (0 while there is none). */
export function sidecarDone(file: string): number {
  try {
    const sc = JSON.parse(readFileSync(file, 'utf8')) as { segments: { done: number }[] }
    return sc.segments.reduce((n, s) => n + s.done, 0)
  } catch {
    return 0
  }
}
