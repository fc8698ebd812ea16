// Servers a test file shares, started before its tests and closed after them:
// one loopback model server with a scratch folder, or a Hugging Face hub in
// front of a model server acting as its CDN.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { startHubServers, type HubServers } from '../harness/hubServer'
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

export interface HubAndCdn {
  /** The CDN the hub's signed links point at. */
  readonly cdn: ModelServer
  readonly hub: HubServers
}

/** A model server as the CDN and the Hugging Face hub in front of it, for one
 *  test file (beforeAll/afterAll registered here). */
export function hubAndCdn(): HubAndCdn {
  let cdn: ModelServer | undefined
  let hub: HubServers | undefined
  beforeAll(async () => {
    cdn = await startModelServer()
    hub = await startHubServers(cdn)
  })
  afterAll(async () => {
    await hub?.close()
    await cdn?.close()
  })
  return {
    get cdn() {
      if (!cdn) throw new Error('the CDN starts in beforeAll')
      return cdn
    },
    get hub() {
      if (!hub) throw new Error('the hub starts in beforeAll')
      return hub
    }
  }
}
