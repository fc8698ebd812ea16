// Pushing a file of this computer to a pod over a real sshd with exec + SFTP:
// it lands by rename only after the pod checked its sha256, the same file
// already there is not sent again, a different one is never replaced unasked,
// and a push cut at half shows as a paused upload and continues from what the
// pod holds, sending at most 1.02× the file in all.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { PodTarget } from '../../src/main/targets/pod/podTarget'
import type { PushTuning } from '../../src/main/targets/pod/podPush'
import { openPodTarget, usePodHarness } from '../support/podTarget'
import { holdsPrefix, writeLocalFile, sha256File } from '../support/localFiles'
import { waitFor } from '../support/wait'

const MiB = 1 << 20
const pod = usePodHarness()
const local = mkdtempSync(join(tmpdir(), 'podpull-push-local-'))
afterAll(() => rmSync(local, { recursive: true, force: true }))

const open = (o: Parameters<typeof openPodTarget>[1] = {}) => openPodTarget(pod, o)

const state = (t: PodTarget, id: string): string | undefined =>
  t.downloads().find((r) => r.id === id)?.state

describe('push over exec + SFTP', () => {
  it('lands after the sha256 check; the same file again is "already there"; a different one is refused', async () => {
    let sent = 0
    const { t, comfyui } = await open({ push: { onSent: (n) => (sent += n) } })
    const f = writeLocalFile(local, 'mine.safetensors', 3 * MiB + 7, 'mine')
    const res = await t.push!({ file: f.path, folder: 'loras', filename: 'mine.safetensors' })
    const dest = join(comfyui, 'models', 'loras', 'mine.safetensors')
    expect(res).toMatchObject({ outcome: 'started', path: dest })
    await waitFor(() => state(t, res.id) === 'completed', 'the upload completed', 60_000)
    expect(sha256File(dest)).toBe(f.sha256)
    expect(existsSync(`${dest}.part`) || existsSync(`${dest}.part.json`)).toBe(false)
    expect(t.downloads().find((r) => r.id === res.id)).toMatchObject({
      kind: 'upload',
      fileSize: 3 * MiB + 7,
      sha256: f.sha256
    })
    expect(sent).toBe(3 * MiB + 7)

    const again = await t.push!({ file: f.path, folder: 'loras', filename: 'mine.safetensors' })
    expect(again.outcome).toBe('already-present')
    expect(sent).toBe(3 * MiB + 7)

    const other = writeLocalFile(local, 'other.safetensors', MiB, 'other')
    const before = statSync(dest)
    await expect(
      t.push!({ file: other.path, folder: 'loras', filename: 'mine.safetensors' })
    ).rejects.toMatchObject({ code: 'exists' })
    expect(statSync(dest).mtimeMs).toBe(before.mtimeMs)
    // Of the same size: only its sha256 tells it apart, and it is refused too.
    const twin = writeLocalFile(local, 'twin.safetensors', 3 * MiB + 7, 'twin')
    await expect(
      t.push!({ file: twin.path, folder: 'loras', filename: 'mine.safetensors' })
    ).rejects.toMatchObject({ code: 'exists' })
    expect(statSync(dest).mtimeMs).toBe(before.mtimeMs)
    expect(sha256File(dest)).toBe(f.sha256)
    expect(sent).toBe(3 * MiB + 7)

    const over = await t.push!({
      file: other.path,
      folder: 'loras',
      filename: 'mine.safetensors',
      overwrite: true
    })
    await waitFor(() => state(t, over.id) === 'completed', 'the overwrite completed', 60_000)
    expect(sha256File(dest)).toBe(other.sha256)
  }, 180_000)

  it('a push cut at half is a paused upload, and resumes from what the pod holds (≤ 1.02×)', async () => {
    const size = 16 * MiB + 12_345
    const half = 8 * MiB
    let sent = 0
    let armed = true
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const push: PushTuning = {
      onSent: (n) => (sent += n),
      beforeWrite: (offset) => (armed && offset >= half ? gate : undefined)
    }
    const { t, ws, comfyui } = await open({ push, settings: { autoResume: false } })
    const f = writeLocalFile(local, 'big.safetensors', size, 'big')
    const dest = join(comfyui, 'models', 'loras', 'big.safetensors')
    const { id } = await t.push!({ file: f.path, folder: 'loras', filename: 'big.safetensors' })
    await waitFor(() => holdsPrefix(`${dest}.part`, f.path, half), 'the first half on the pod')
    expect(existsSync(dest)).toBe(false)
    expect((await t.rawStatus())[dest]).toMatchObject({ status: 'downloading', kind: 'upload', id })

    await pod.sshd.killConnections()
    const paused = await waitFor(
      async () =>
        (await t.rawStatus().catch((): Record<string, unknown> => ({})))[dest] as
          Record<string, unknown> | undefined,
      'the upload paused on the pod',
      { until: (e) => e?.status === 'paused' }
    )
    expect(paused).toMatchObject({ kind: 'upload', interrupted: true, resumable: true })
    // The held writes go on only now: they find the link gone and write nothing.
    armed = false
    release()
    expect(existsSync(dest)).toBe(false)
    expect(statusOf(ws, dest).downloaded).toBeGreaterThanOrEqual(half)

    await t.resume(id)
    await waitFor(() => state(t, id) === 'completed', 'the resumed upload completed', 60_000)
    expect(sha256File(dest)).toBe(f.sha256)
    expect(sent).toBeGreaterThanOrEqual(size)
    expect(sent / size).toBeLessThanOrEqual(1.02)
  }, 180_000)
})

function statusOf(ws: string, key: string): Record<string, number> {
  return JSON.parse(readFileSync(join(ws, '.download_status.json'), 'utf8'))[key]
}
