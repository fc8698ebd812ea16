// Records the golden mid-download files again (after a deliberate format
// change): `node scripts/build-helper.mjs && npx jiti test/vectors/golden/record.ts`.
// Each engine downloads GOLDEN_FILE from a loopback server that holds the body
// at holdAt, is paused once its sidecar records that much, and what it left is
// stored with {ROOT} and {ORIGIN} in place of the paths and the server.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startModelServer } from '../../harness/modelServer'
import { localHelperDriver } from '../../conformance/helperDriver'
import { localTargetDriver } from '../../conformance/localDriver'
import { sidecarDone } from '../../support/partFiles'
import { waitFor } from '../../support/wait'
import { ENGINES, GOLDEN_FILE, storeGolden } from './files'

async function main(): Promise<void> {
  const srv = await startModelServer()
  try {
    for (const engine of ENGINES) {
      const root = mkdtempSync(join(tmpdir(), 'podpull-golden-'))
      const f = srv.addFile(GOLDEN_FILE.urlPath, {
        size: GOLDEN_FILE.size,
        seed: GOLDEN_FILE.seed,
        holdAt: GOLDEN_FILE.holdAt
      })
      const req = {
        url: f.url,
        modelsDir: join(root, 'models'),
        workspace: join(root, 'workspace'),
        folder: GOLDEN_FILE.folder,
        filename: GOLDEN_FILE.filename
      }
      mkdirSync(req.modelsDir, { recursive: true })
      mkdirSync(req.workspace, { recursive: true })
      const driver = engine === 'typescript' ? localTargetDriver() : localHelperDriver()
      const { id, path } = await driver.start(req)
      await waitFor(() => sidecarDone(`${path}.part.json`) >= GOLDEN_FILE.holdAt, 'the held bytes')
      await driver.pause(req, id)
      storeGolden(engine, root, new URL(f.url).origin)
      rmSync(root, { recursive: true, force: true })
      console.log(`${engine}: stored ${id}`)
    }
  } finally {
    await srv.close()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
