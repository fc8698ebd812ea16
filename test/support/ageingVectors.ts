// test/vectors/statusAgeing.json: each case's entry as it goes in, and as it
// must come out (undefined: dropped), for both engines' ageing.
import { readVectors } from './vectors'

type Entry = Record<string, unknown>
export interface AgeingCase {
  name: string
  entry: Entry
  sidecar?: { size: number; segments: { start: number; end: number; done: number }[] }
  out: Entry | null
}
export interface AgeingVectors {
  rules: {
    now: number
    retentionHours: number
    staleMinutes: number
    host: string
    alivePids: number[]
    pidStarts: Record<string, number>
  }
  base: Entry
  cases: AgeingCase[]
}

export const ageingVectors = (): AgeingVectors => readVectors<AgeingVectors>('statusAgeing.json')

export const entryIn = (v: AgeingVectors, c: AgeingCase): Entry => ({ ...v.base, ...c.entry })

export const entryOut = (v: AgeingVectors, c: AgeingCase): Entry | undefined =>
  c.out === null ? undefined : { ...entryIn(v, c), ...c.out }
