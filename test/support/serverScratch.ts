// One loopback model server and one scratch folder per test file: started
// before its tests, closed and removed after them.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { startModelServer, type ModelServer } from '../harness/modelServer'

export interface ServerScratch {
  readonly srv: ModelServer
  readonly root: string
}

/** Registers the file's beforeAll/afterAll; read `srv` and `root` inside tests. */
export function serverAndScratch(prefix: string): ServerScratch {
  let srv: ModelServer | undefined
  let root: string | undefined
  beforeAll(async () => {
    srv = await startModelServer()
    root = mkdtempSync(join(tmpdir(), prefix))
  })
  afterAll(async () => {
    await srv?.close()
    if (root) rmSync(root, { recursive: true, force: true })
  })
  return {
    get srv() {
      if (!srv) throw new Error('the model server starts in beforeAll')
      return srv
    },
    get root() {
      if (!root) throw new Error('the scratch folder is made in beforeAll')
      return root
    }
  }
}
