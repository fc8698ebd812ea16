// Two OS processes share one workspace's status file: each runs five jobs,
// reporting progress and finishing them, at the same time. Every entry of both
// must be there and right at the end (the lock + read-modify-write at work).
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { build } from 'rolldown'
import { afterAll, beforeAll, expect, it } from 'vitest'

const run = promisify(execFile)
let dir: string
let writerJs: string

// The writer runs StatusStore the way a second app or the CLI would.
const WRITER_SOURCE = `
import { StatusStore } from ${JSON.stringify(resolve('src/main/status/statusStore.ts'))}
const [workspace, prefix] = process.argv.slice(2)
const store = new StatusStore({ workspace, retentionHours: () => 24, staleMinutes: () => 10 })
store.on('error', (e) => { console.error(e); process.exit(3) })
await store.open()
const size = 1000
const now = () => Date.now() / 1000
const entry = (i, downloaded, status) => ({
  progress: 0, status, url: 'http://127.0.0.1/' + prefix + i, start_time: now(), timestamp: now(),
  file_size: size, downloaded, speed: 10, eta: 1, file_size_mb: 0, downloaded_mb: 0, speed_mb: 0,
  eta_minutes: null, error: null, id: prefix + String(i).padStart(16 - prefix.length, '0'),
  folder: 'loras', filename: prefix + i + '.bin', sha256: null, source: 'direct', connections: 1,
  attempts: 1, owner: status === 'completed' ? null : store.owner(), progress_time: now(),
  resumable: true, rev: 0
})
const path = (i) => workspace + '/ComfyUI/models/loras/' + prefix + i + '.bin'
for (let i = 0; i < 5; i++) store.put(path(i), entry(i, 0, 'starting'), { urgent: true, running: true })
for (let step = 1; step <= 30; step++) {
  for (let i = 0; i < 5; i++) store.put(path(i), entry(i, step * 30, 'downloading'), { running: true })
  await new Promise((r) => setTimeout(r, 50))
}
for (let i = 0; i < 5; i++) store.put(path(i), entry(i, size, 'completed'), { urgent: true })
await store.close()
`

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podpull-status-proc-'))
  const src = join(dir, 'writer.ts')
  await writeFile(src, WRITER_SOURCE)
  writerJs = join(dir, 'writer.mjs')
  await build({
    input: src,
    platform: 'node',
    output: { file: writerJs, format: 'esm' },
    logLevel: 'silent'
  })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

it('two processes writing five entries each into one workspace lose nothing', async () => {
  const ws = join(dir, 'ws')
  await rm(ws, { recursive: true, force: true })
  await mkdir(ws)
  await Promise.all([run('node', [writerJs, ws, 'a']), run('node', [writerJs, ws, 'b'])])
  const disk = JSON.parse(await readFile(join(ws, '.download_status.json'), 'utf8')) as Record<
    string,
    { status: string; downloaded: number; id: string; owner: unknown; rev: number }
  >
  const paths = Object.keys(disk).sort()
  expect(paths).toEqual(
    ['a', 'b'].flatMap((p) =>
      [0, 1, 2, 3, 4].map((i) => join(ws, `ComfyUI/models/loras/${p}${i}.bin`))
    )
  )
  for (const e of Object.values(disk)) {
    expect(e).toMatchObject({ status: 'completed', downloaded: 1000, owner: null })
    expect(e.rev).toBeGreaterThan(30) // every progress report bumped it
  }
})
