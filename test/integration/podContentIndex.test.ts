// The content index on a pod, kept by the helper over the real sshd: a pod
// download whose sha256 the pod already has under another name is linked with
// nothing fetched, the inventory shows hashes and "same file as …", and the
// background hasher resumes after being stopped without hashing a finished
// file again.
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { DownloadRecord, HashingProgress } from '../../src/shared/types'
import type { PodTarget } from '../../src/main/targets/pod/podTarget'
import { podTarget, usePodHarness } from '../support/podTarget'
import { waitFor } from '../support/wait'

const MiB = 1 << 20
const pod = usePodHarness()

const record = (t: PodTarget, id: string): DownloadRecord | undefined =>
  t.downloads().find((r) => r.id === id)

function indexed(ws: string): Record<string, { sha256: string }> {
  try {
    return JSON.parse(readFileSync(join(ws, '.podpull', 'content-index.json'), 'utf8')).files
  } catch {
    return {}
  }
}

function hasherState(ws: string): { state?: string; hashed?: number; total?: number } {
  try {
    return JSON.parse(readFileSync(join(ws, '.podpull', 'hashing.json'), 'utf8'))
  } catch {
    return {}
  }
}

/** A pod target that starts no background hasher: what gets indexed, the download did. */
async function openWithoutHasher(w: ReturnType<typeof pod.workspace>): Promise<PodTarget> {
  const t = podTarget(pod.sshd, w.store, {
    ws: w.ws,
    comfyui: w.comfyui,
    settings: { backgroundHashing: false }
  })
  pod.targets.push(t)
  await t.open()
  return t
}

describe('content index on a pod', () => {
  it('links a download whose sha256 the pod already has, fetching 0 bytes', async () => {
    const w = pod.workspace()
    const f = pod.server.addFile('/idx/a.safetensors', { size: 2 * MiB, seed: 'idx-a' })
    const t = await openWithoutHasher(w)
    const first = await t.start({ url: f.url, folder: 'loras', sha256: f.sha256 })
    await waitFor(() => record(t, first.id)?.state === 'completed', 'first download completed')
    const old = join(w.comfyui, 'models', 'loras', 'a.safetensors')
    // The worker records the verified hash: the next start can find the content.
    await waitFor(() => indexed(w.ws)[old]?.sha256 === f.sha256, 'hash recorded')
    const fetched = pod.server.requestsFor('/idx/a.safetensors').length

    const again = await t.start({
      url: f.url,
      folder: 'checkpoints',
      filename: 'renamed.safetensors',
      sha256: f.sha256
    })
    const dest = join(w.comfyui, 'models', 'checkpoints', 'renamed.safetensors')
    expect(again).toMatchObject({
      outcome: 'linked',
      path: dest,
      linkedFrom: 'loras/a.safetensors',
      linkedBy: 'hardlink'
    })
    expect(pod.server.requestsFor('/idx/a.safetensors')).toHaveLength(fetched)
    expect(statSync(dest).ino).toBe(statSync(old).ino)
    const rec = await waitFor(() => record(t, again.id), 'linked record')
    expect(rec).toMatchObject({
      state: 'completed',
      notice: 'Already had it as loras/a.safetensors — linked'
    })
    // The walker lists one inode once; a copy under a third name is "the same file as".
    const copy = join(w.comfyui, 'models', 'vae', 'copy.safetensors')
    mkdirSync(join(w.comfyui, 'models', 'vae'))
    writeFileSync(copy, readFileSync(old))
    await t.models().sha256(copy)
    const inv = await t.models().installed()
    expect(inv.models.find((m) => m.path === copy)).toMatchObject({
      sha256: f.sha256,
      sameAs: [expect.stringMatching(/^(loras\/a|checkpoints\/renamed)\.safetensors$/)]
    })
    // Keep one through the helper: undo puts the copy back, confirm gives its bytes back.
    const m = t.models()
    // Two names of one inode are listed once (checkpoints/ comes first): keep that one.
    const listed = inv.models.find((x) => x.sha256 === f.sha256 && x.path !== copy)!.path
    expect(listed).toBe(dest)
    const undo = await m.keepOne(f.sha256, listed)
    expect(undo).toMatchObject({ kept: listed, linked: [copy], reclaimable: 2 * MiB })
    expect(statSync(copy).ino).toBe(statSync(old).ino)
    expect(await m.pendingKeepOnes()).toEqual([undo])
    expect(await m.settleKeepOne(undo.op, true)).toEqual({ restored: [copy], reclaimed: 0 })
    expect(statSync(copy).ino).not.toBe(statSync(old).ino)
    const res = await m.keepOne(f.sha256, listed)
    expect(await m.settleKeepOne(res.op, false)).toEqual({ restored: [], reclaimed: 2 * MiB })
    expect(statSync(old).nlink).toBe(3)
    expect(readdirSync(join(w.comfyui, 'models', 'vae'))).toEqual(['copy.safetensors'])
  })

  it('a download finished without a sha256 is indexed by the background hasher', async () => {
    const w = pod.workspace()
    const f = pod.server.addFile('/idx/plain.safetensors', { size: MiB, seed: 'idx-plain' })
    const t = podTarget(pod.sshd, w.store, { ws: w.ws, comfyui: w.comfyui })
    pod.targets.push(t)
    await t.open()
    const res = await t.start({ url: f.url, folder: 'loras' })
    await waitFor(() => record(t, res.id)?.state === 'completed', 'download completed')
    await waitFor(() => indexed(w.ws)[res.path]?.sha256, 'indexed by the hasher')
    expect(indexed(w.ws)[res.path]!.sha256).toBe(f.sha256)
    const inv = await t.models().installed()
    expect(inv.models.find((m) => m.path === res.path)?.sha256).toBe(f.sha256)
  })

  it('hashes existing files in the background and resumes without rehashing', async () => {
    const w = pod.workspace()
    const loras = join(w.comfyui, 'models', 'loras')
    mkdirSync(loras)
    const files = [0, 1, 2, 3].map((i) => join(loras, `f${i}.safetensors`))
    files.forEach((p, i) => writeFileSync(p, Buffer.alloc(3 * MiB, i + 1)))
    linkSync(files[0]!, join(loras, 'same-inode.safetensors')) // listed once, hashed once
    const t = podTarget(pod.sshd, w.store, {
      ws: w.ws,
      comfyui: w.comfyui,
      settings: { backgroundHashing: false }
    })
    pod.targets.push(t)
    const seen: (HashingProgress | null | undefined)[] = []
    t.on('info', (i) => seen.push(i.hashing))
    await t.open()
    const models = t.models()
    // A slow first run (1 MiB/s: a file takes 3 s), stopped once a file is in the index.
    await models.startHashing({ bytesPerSec: MiB })
    await waitFor(() => Object.keys(indexed(w.ws)).length >= 1, 'a first file hashed')
    await models.stopHashing()
    await waitFor(() => hasherState(w.ws).state === 'stopped', 'the hasher stopped')
    const done = Object.keys(indexed(w.ws)).length
    expect(done).toBeGreaterThanOrEqual(1)
    expect(done).toBeLessThan(4)
    expect(seen.some((h) => h && h.total === 4)).toBe(true)

    await models.startHashing()
    await waitFor(() => hasherState(w.ws).state === 'finished', 'the second run finished')
    expect(hasherState(w.ws)).toMatchObject({ total: 4 - done, hashed: 4 - done })
    expect(Object.keys(indexed(w.ws)).sort()).toEqual(files)
    // The progress shows on the target while it runs, and ends as null.
    await waitFor(() => t.info().hashing === null, 'progress cleared')
    expect(existsSync(join(w.ws, '.podpull', 'hashing.json'))).toBe(true)
    const inv = await models.installed()
    expect(inv.models.every((m) => /^[0-9a-f]{64}$/.test(m.sha256 ?? ''))).toBe(true)
  })
})
