// The seam between the two engines. A download paused mid-way by one engine is
// resumed and finished by the other from what it left on disk (the .part, its
// sidecar and the status entry), and both engines leave those files in one
// shape: test/vectors/midDownload.json names every field of each, with its type.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { serverAndScratch } from '../support/serverScratch'
import { localHelperDriver, readStatusFile } from '../conformance/helperDriver'
import { localTargetDriver } from '../conformance/localDriver'
import type { ConformanceDriver, DriverRequest } from '../conformance/scenarios'
import { sidecarDone } from '../support/partFiles'
import { waitFor } from '../support/wait'

const MiB = 1 << 20
const SIZE = 8 * MiB
const HALF = SIZE / 2

interface Shapes {
  sidecar: Record<string, string>
  sidecarSegment: Record<string, string>
  statusEntry: Record<string, string>
}
const golden = JSON.parse(
  readFileSync(join(__dirname, '../vectors/midDownload.json'), 'utf8')
) as Shapes

const ENGINES: Record<string, () => ConformanceDriver> = {
  typescript: localTargetDriver,
  helper: localHelperDriver
}

const fx = serverAndScratch('podpull-cross-')

/** Each field's JSON type ('null' apart), so optional values still compare. */
function shapeOf(o: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(o))
    out[k] = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
  return out
}

/** A field's type as the golden file allows it: "number|null" takes either. */
function expectShape(got: Record<string, unknown>, want: Record<string, string>, what: string) {
  const shape = shapeOf(got)
  expect(Object.keys(shape).sort(), what).toEqual(Object.keys(want).sort())
  for (const [k, t] of Object.entries(shape))
    expect(want[k]!.split('|'), `${what}.${k} is ${t}`).toContain(t)
}

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex')

describe.each([
  ['typescript', 'helper'],
  ['helper', 'typescript']
])('paused by the %s engine, resumed by the %s engine', (first, second) => {
  it('finishes from the .part, fetching at most 2 % more, from files of the shared shape', async () => {
    const f = fx.srv.addFile(`/cross/${first}-${second}.safetensors`, {
      size: SIZE,
      seed: `${first}${second}`,
      holdAt: HALF
    })
    const base = join(fx.root, `${first}-${second}`)
    const req: DriverRequest = {
      url: f.url,
      modelsDir: join(base, 'models'),
      workspace: join(base, 'workspace'),
      folder: 'checkpoints',
      filename: 'cross.safetensors'
    }
    mkdirSync(req.modelsDir, { recursive: true })
    mkdirSync(req.workspace, { recursive: true })

    const a = ENGINES[first]!()
    const { id, path } = await a.start(req)
    // The server holds the body at half: both engines record it, then pause.
    await waitFor(() => sidecarDone(`${path}.part.json`) >= HALF, 'half the file in the sidecar')
    await a.pause(req, id)

    const sidecar = JSON.parse(readFileSync(`${path}.part.json`, 'utf8')) as {
      segments: Record<string, unknown>[]
    }
    expectShape(sidecar, golden.sidecar, `${first} sidecar`)
    for (const s of sidecar.segments) expectShape(s, golden.sidecarSegment, `${first} segment`)
    const entry = readStatusFile(req.workspace)[path]!
    expect(entry).toMatchObject({ id, status: 'paused', resumable: true })
    expectShape(entry, golden.statusEntry, `${first} status entry`)

    fx.srv.setFaults(f.path, { holdAt: undefined })
    const r = await ENGINES[second]!().resume(req, id)
    expect(r, JSON.stringify(r)).toMatchObject({ state: 'completed' })
    expect(sha(path)).toBe(f.sha256)
    expect(fx.srv.bytesServed(f.path)).toBeLessThanOrEqual(SIZE * 1.02)
    expect(readStatusFile(req.workspace)[path]).toMatchObject({ id, status: 'completed' })
  })
})
