// The content index of a local target: files hashed once (the background
// hasher resumes after a restart without hashing a finished file again), a
// download whose content the target already has becomes a hard link with
// nothing fetched, and duplicates are reported and linked into one inode.
import { createHash } from 'node:crypto'
import { copyFile, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_SETTINGS, type Settings } from '../../src/shared/types'
import { LocalTarget } from '../../src/main/targets/local/localTarget'
import { ContentIndex } from '../../src/main/models/contentIndex'
import { hashPending } from '../../src/main/models/contentHasher'
import { contentOf } from '../harness/content'
import { useLocalHarness } from '../support/localHarness'

const h = useLocalHarness('podpull-index-')

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

async function setup(over: Partial<Settings> = {}) {
  const workspace = h.fresh('ws')
  const comfyui = join(workspace, 'ComfyUI')
  const models = join(comfyui, 'models')
  await mkdir(join(models, 'loras'), { recursive: true })
  await mkdir(join(models, 'checkpoints'), { recursive: true })
  const settings = { ...DEFAULT_SETTINGS, connections: 1, backgroundHashing: false, ...over }
  const target = new LocalTarget(
    { id: 't1', name: 'studio', config: { kind: 'local', comfyui, workspace } },
    { settings: () => settings, auth: () => undefined, authHint: () => undefined }
  )
  h.targets.push(target)
  return { target, workspace, models }
}

describe('background hashing', () => {
  it('resumes after a restart without hashing a finished file again', async () => {
    const { workspace, models } = await setup()
    const files = [0, 1, 2, 3].map((i) => join(models, 'loras', `f${i}.safetensors`))
    for (const [i, f] of files.entries()) await writeFile(f, `content ${i}`.repeat(1000))
    const first = new AbortController()
    const hashedFirst: string[] = []
    const index1 = await ContentIndex.forWorkspace(workspace).load()
    // The gate: the run stops once two files are done, as an app quit would.
    await hashPending({
      index: index1,
      paths: files,
      signal: first.signal,
      onHashed: (p) => {
        hashedFirst.push(p)
        if (hashedFirst.length === 2) first.abort()
      }
    })
    expect(hashedFirst).toEqual(files.slice(0, 2))

    const index2 = await ContentIndex.forWorkspace(workspace).load() // a new process
    const hashedAgain: string[] = []
    const progress: string[] = []
    const end = await hashPending({
      index: index2,
      paths: files,
      onHashed: (p) => hashedAgain.push(p),
      onProgress: (p) => progress.push(`${p.done} of ${p.total}`)
    })
    expect(hashedAgain).toEqual(files.slice(2))
    expect(end).toMatchObject({ done: 4, total: 4 })
    expect(progress).toContain('4 of 4')
    const third = await ContentIndex.forWorkspace(workspace).load()
    for (const [i, f] of files.entries())
      expect(await third.pathsWith(sha(Buffer.from(`content ${i}`.repeat(1000))))).toEqual([f])
  })

  it('runs when a target opens and shows its progress on the target', async () => {
    const { target, models } = await setup({ backgroundHashing: true })
    await writeFile(join(models, 'loras', 'a.safetensors'), 'aaa')
    const seen: string[] = []
    target.on('info', (i) => {
      if (i.hashing) seen.push(`hashing ${i.hashing.done} of ${i.hashing.total}`)
    })
    const idle = new Promise<void>((resolve) =>
      target.on('info', (i) => i.hashing === null && seen.length && resolve())
    )
    await target.open()
    await idle
    expect(seen).toContain('hashing 1 of 1')
    const inv = await target.models().installed()
    expect(inv.models[0]?.sha256).toBe(sha(Buffer.from('aaa')))
  })
})

describe("don't download what you have", () => {
  it('links a download whose sha256 the target already has, fetching 0 bytes', async () => {
    const { target, models } = await setup()
    const served = h.srv.addFile('/same.safetensors', { size: 300_000, seed: 'same' })
    const old = join(models, 'loras', 'old_name.safetensors')
    await writeFile(old, contentOf(300_000, 'same'))
    await target.open()
    await target.models().indexContent()
    const res = await target.start({
      url: served.url,
      folder: 'checkpoints',
      filename: 'new.safetensors',
      sha256: served.sha256
    })
    expect(res).toMatchObject({ outcome: 'linked', linkedFrom: 'loras/old_name.safetensors' })
    expect(h.srv.requestsFor('/same.safetensors')).toHaveLength(0)
    const [a, b] = [await stat(old), await stat(res.path)]
    expect(b.ino).toBe(a.ino)
    const rec = target.downloads().find((r) => r.id === res.id)
    expect(rec).toMatchObject({ state: 'completed', sha256: served.sha256 })
    expect(rec?.notice).toBe('Already had it as loras/old_name.safetensors — linked')
  })

  it('records the hash of a finished download, so the next one is linked', async () => {
    // No sha256 to check: the engine's idle thread hashes it (or else the background hasher).
    const { target, workspace } = await setup({ backgroundHashing: true })
    const served = h.srv.addFile('/fresh.safetensors', { size: 200_000, seed: 'fresh' })
    const indexed = new Promise<void>((resolve) =>
      target.on('info', (i) => {
        if (i.hashing !== null) return
        void ContentIndex.forWorkspace(workspace)
          .load()
          .then(async (index) => (await index.pathsWith(served.sha256)).length > 0 && resolve())
      })
    )
    await target.open()
    const first = await target.start({ url: served.url, folder: 'loras' })
    expect(first.outcome).toBe('started')
    await indexed
    const before = h.srv.requestsFor('/fresh.safetensors').length
    const second = await target.start({
      url: served.url,
      folder: 'checkpoints',
      filename: 'copy.safetensors', // named: the server is not even asked for a name
      sha256: served.sha256
    })
    expect(second.outcome).toBe('linked')
    expect(h.srv.requestsFor('/fresh.safetensors')).toHaveLength(before)
  })

  it('a download without a sha256 is indexed by the idle hash taken as it streamed, not by the background hasher', async () => {
    const { target, workspace } = await setup({ backgroundHashing: true })
    const served = h.srv.addFile('/streamed.safetensors', { size: 6 << 20, seed: 'streamed' })
    const read: string[] = [] // files the background hasher read
    const indexed = new Promise<void>((resolve) =>
      target.on('info', (i) => {
        if (i.hashing?.current) read.push(i.hashing.current)
        void ContentIndex.forWorkspace(workspace)
          .load()
          .then(async (index) => (await index.pathsWith(served.sha256)).length > 0 && resolve())
      })
    )
    await target.open()
    expect((await target.start({ url: served.url, folder: 'loras' })).outcome).toBe('started')
    await indexed
    const [path] = await (
      await ContentIndex.forWorkspace(workspace).load()
    ).pathsWith(served.sha256)
    expect(path).toBe(join(workspace, 'ComfyUI', 'models', 'loras', 'streamed.safetensors'))
    expect(sha(await readFile(path!))).toBe(served.sha256)
    expect(read).toEqual([])
  })
})

describe('duplicates', () => {
  it('reports a copy under a second name and "keep one" leaves one inode with two names', async () => {
    const { target, models } = await setup()
    const a = join(models, 'loras', 'flux1-dev.safetensors')
    const b = join(models, 'checkpoints', 'FLUX.1-dev.safetensors')
    await writeFile(a, Buffer.alloc(50_000, 7))
    await copyFile(a, b)
    await target.open()
    const m = target.models()
    await m.indexContent()
    const inv = await m.installed()
    expect(inv.models.find((x) => x.path === a)?.sameAs).toEqual([
      'checkpoints/FLUX.1-dev.safetensors'
    ])
    const [group, ...rest] = await m.duplicates()
    expect(rest).toHaveLength(0)
    expect(group).toMatchObject({ size: 50_000, reclaimable: 50_000 })
    const res = await m.keepOne(group!.sha256, a)
    expect(res).toMatchObject({ kept: a, linked: [b], reclaimable: 50_000 })
    const [sa, sb] = [await stat(a), await stat(b)]
    expect(sb.ino).toBe(sa.ino)
    expect(await m.duplicates()).toEqual([]) // one inode now: nothing left to reclaim
    await expect(m.keepOne(group!.sha256)).rejects.toThrow(/No duplicated content/)
    // Until confirmed the old copy waits aside (unlisted); confirming deletes it.
    expect(await m.pendingKeepOnes()).toEqual([res])
    expect(await m.settleKeepOne(res.op, false)).toEqual({ restored: [], reclaimed: 50_000 })
    expect((await stat(a)).nlink).toBe(2)
    expect(await m.pendingKeepOnes()).toEqual([])
  })

  it('"keep one" is undone until confirmed, and confirm never deletes a changed name\'s content', async () => {
    const { target, models } = await setup()
    const a = join(models, 'loras', 'a.safetensors')
    const [b, c] = ['b', 'c'].map((x) => join(models, 'checkpoints', `${x}.safetensors`))
    await writeFile(a, Buffer.alloc(20_000, 3))
    await copyFile(a, b!)
    await copyFile(a, c!)
    await target.open()
    const m = target.models()
    await m.indexContent()
    const [group] = await m.duplicates()
    const undo = await m.keepOne(group!.sha256, a)
    expect(await m.settleKeepOne(undo.op, true)).toMatchObject({ restored: [b, c] })
    const inodes = await Promise.all([a, b!, c!].map(async (p) => (await stat(p)).ino))
    expect(new Set(inodes).size).toBe(3)
    expect(await m.duplicates()).toHaveLength(1)
    const res = await m.keepOne(group!.sha256, a)
    // Another file saved under c's name meanwhile (written aside, renamed over it).
    await writeFile(`${c}.new`, 'something else')
    await rename(`${c}.new`, c!)
    const done = await m.settleKeepOne(res.op, false)
    // c's name holds another file now: c's old content goes beside it, never away.
    const beside = join(models, 'checkpoints', `c.before-keep-one-${res.op}.safetensors`)
    expect(done).toEqual({ restored: [beside], reclaimed: 20_000 })
    expect((await stat(beside)).size).toBe(20_000)
    expect(await readFile(c!, 'utf8')).toBe('something else')
    await expect(m.settleKeepOne(res.op, false)).rejects.toThrow(/No pending keep-one/)
  })
})
