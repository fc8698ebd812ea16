// A server's rate limit as a local download shows it: the row's notice while
// the engine waits what the server asked, and past the cap a paused row that
// says why (resumable), never a timer left running for a day.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { DEFAULT_SETTINGS, type DownloadRecord } from '../../src/shared/types'
import { LocalTarget } from '../../src/main/targets/local/localTarget'
import { memoryOwnJobs } from '../../src/main/targets/ownJobs'
import { useLocalHarness } from '../support/localHarness'
import { waitFor } from '../support/wait'

const h = useLocalHarness('podpull-ratelimit-')

async function target(name: string): Promise<LocalTarget> {
  const comfyui = join(h.root, name, 'ComfyUI')
  await mkdir(join(comfyui, 'models', 'loras'), { recursive: true })
  const t = new LocalTarget(
    { id: name, name, config: { kind: 'local', comfyui, workspace: join(h.root, name) } },
    {
      settings: () => ({ ...DEFAULT_SETTINGS, connections: 1 }),
      ownJobs: memoryOwnJobs(),
      auth: () => undefined,
      authHint: () => undefined,
      engine: { retryBaseMs: 50 },
      statusPollMs: 300
    }
  )
  h.targets.push(t)
  await t.open()
  return t
}

const recordOf = (t: LocalTarget, id: string): DownloadRecord | undefined =>
  t.downloads().find((r) => r.id === id)

it('a 429 with Retry-After: 1 shows on the row while it waits, then the download goes on', async () => {
  const t = await target('wait')
  const f = h.srv.addFile('/rl/wait.safetensors', {
    size: 100_000,
    failStatus: 429,
    retryAfter: 1
  })
  const { id } = await t.start({ url: f.url, folder: 'loras', filename: 'm.safetensors' })
  const host = new URL(h.srv.url).host
  await waitFor(() => recordOf(t, id)?.notice, 'the notice on the row', {
    until: (n) => n === `rate-limited by ${host}, going on in 1 s`
  })
  const done = await waitFor(() => recordOf(t, id), 'completed', {
    until: (r) => r?.state === 'completed'
  })
  expect(done.notice ?? null).toBeNull()
})

it('a day of Retry-After pauses the row with the reason, resumable', async () => {
  const t = await target('day')
  const f = h.srv.addFile('/rl/day.safetensors', {
    size: 100_000,
    failStatus: 429,
    retryAfter: 86_400
  })
  const { id } = await t.start({ url: f.url, folder: 'loras', filename: 'm.safetensors' })
  const r = await waitFor(() => recordOf(t, id), 'paused', {
    until: (x) => x?.state === 'paused' || x?.state === 'error'
  })
  expect(r.state).toBe('paused')
  expect(r.error).toMatch(/asks to wait 24 h before going on/)
  // Resumed once the server lets go: the download finishes.
  h.srv.setFaults(f.path, { failStatus: undefined })
  await t.resume(id)
  await waitFor(() => recordOf(t, id)?.state, 'completed', { until: (s) => s === 'completed' })
})
