// Stored golden files (test/vectors/golden/): a .part, its sidecar and the
// status file as each engine wrote them when paused part-way through one fixed
// file, kept in the repository. Each engine must finish from each set, fetching
// only what the sidecar says is missing. The live cross-engine test
// (crossEngine.test.ts) cannot catch a format change both engines make
// together; these files can: an engine that no longer reads what was written
// before fetches the whole file again or fails.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { serverAndScratch } from '../support/serverScratch'
import { contentOf } from '../harness/content'
import { localHelperDriver, readStatusFile } from '../conformance/helperDriver'
import { localTargetDriver } from '../conformance/localDriver'
import { ENGINES, GOLDEN_FILE, STORED, layOutGolden } from '../vectors/golden/files'

const fx = serverAndScratch('podpull-stored-')

const driverFor = { typescript: localTargetDriver, helper: localHelperDriver }
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

describe.each(ENGINES.flatMap((w) => ENGINES.map((r) => [w, r] as const)))(
  'files the %s engine stored, resumed by the %s engine',
  (writer, reader) => {
    it('finish the file, fetching only the bytes the sidecar says are missing', async () => {
      const f = fx.srv.addFile(`/${writer}-${reader}${GOLDEN_FILE.urlPath}`, {
        size: GOLDEN_FILE.size,
        seed: GOLDEN_FILE.seed
      })
      const base = join(fx.root, `${writer}-${reader}`)
      // The stored URL's path is GOLDEN_FILE.urlPath: this case's origin adds the prefix.
      layOutGolden(writer, base, `${new URL(f.url).origin}/${writer}-${reader}`)
      const workspace = join(base, 'workspace')
      const entries = Object.entries(readStatusFile(workspace))
      expect(entries).toHaveLength(1)
      const [path, stored] = entries[0] as [string, { id: string; status: string }]
      expect(path).toBe(join(base, 'models', GOLDEN_FILE.folder, GOLDEN_FILE.filename))
      expect(stored.status).toBe('paused')
      // The stored .part holds the real bytes up to what its sidecar records.
      const held = GOLDEN_FILE.holdAt
      const want = contentOf(GOLDEN_FILE.size, GOLDEN_FILE.seed)
      expect(sha(readFileSync(join(base, STORED.part)).subarray(0, held))).toBe(
        sha(want.subarray(0, held))
      )

      const r = await driverFor[reader]().resume(
        {
          url: f.url,
          modelsDir: join(base, 'models'),
          workspace,
          folder: GOLDEN_FILE.folder,
          filename: GOLDEN_FILE.filename
        },
        stored.id
      )
      expect(r, JSON.stringify(r)).toMatchObject({ state: 'completed' })
      expect(sha(readFileSync(path))).toBe(f.sha256)
      // What is missing, plus the one byte the TypeScript engine's resume probe
      // asks for (bytes=0-0) to compare the validators before it goes on.
      expect(fx.srv.bytesServed(f.path)).toBeGreaterThanOrEqual(GOLDEN_FILE.size - held)
      expect(fx.srv.bytesServed(f.path)).toBeLessThanOrEqual(GOLDEN_FILE.size - held + 1)
      expect(readStatusFile(workspace)[path]).toMatchObject({ id: stored.id, status: 'completed' })
    })
  }
)
