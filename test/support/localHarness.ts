// What the LocalTarget test files share: a loopback model server and a scratch
// folder for the file (serverAndScratch), and the targets a test opens,
// closed after each test.
import { join } from 'node:path'
import { afterEach } from 'vitest'
import type { LocalTarget } from '../../src/main/targets/local/localTarget'
import { serverAndScratch, type ServerScratch } from './serverScratch'

export interface LocalHarness extends ServerScratch {
  /** Closed after each test. */
  readonly targets: LocalTarget[]
  /** A new path under root, `<name><n>` (not created). */
  fresh(name: string): string
}

export function useLocalHarness(prefix: string): LocalHarness {
  const scratch = serverAndScratch(prefix)
  const targets: LocalTarget[] = []
  let n = 0
  afterEach(async () => {
    for (const t of targets.splice(0)) await t.close()
  })
  return {
    get srv() {
      return scratch.srv
    },
    get root() {
      return scratch.root
    },
    targets,
    fresh: (name) => join(scratch.root, `${name}${n++}`)
  }
}
