// `podpull sets` as a user runs it, with real sshds: one set applied at once
// to two pods (exec + SFTP, and PTY-only) and a local target lands every
// file with its sha256 and skips what a target already has; a second apply
// fetches nothing; a set exported from a target (local or pod) reproduces it
// on an empty one; a "local" entry is sent from this computer to pods; a bad
// set names its bad line.
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HUB_COMMIT, startHubServers, type HubServers } from '../harness/hubServer'
import { contentOf } from '../harness/content'
import { startModelServer, type ModelServer, type ServedFile } from '../harness/modelServer'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { addLocalTarget, assertBuilt, freshComfy, runCli } from '../support/cli'
import { sha256File } from '../support/localFiles'
import { killWorkers } from '../support/podTarget'

let cdn: ModelServer
let hub: HubServers
let sshd: SshdHarness
/** A pod reached only through a PTY (RunPod's proxy): no exec, no SFTP. */
let ptySshd: SshdHarness
let unet: ServedFile
let lora: ServedFile
let vae: ServedFile
const workspaces: string[] = []

beforeAll(async () => {
  assertBuilt()
  ;[cdn, sshd, ptySshd] = await Promise.all([
    startModelServer(),
    startSshd(),
    startSshd({ ptyOnly: true, maxSessions: 1 })
  ])
  hub = await startHubServers(cdn)
  unet = cdn.addFile('/cdn/set-unet.safetensors', { size: 300_000, seed: 'set-unet' })
  lora = cdn.addFile('/set/lora.safetensors', { size: 120_000, seed: 'set-lora' })
  vae = cdn.addFile('/set/vae.safetensors', { size: 80_000, seed: 'set-vae' })
  hub.addRepo({ id: 'org/set', files: [{ path: 'split/unet.safetensors', cdn: unet }] })
})
afterAll(async () => {
  workspaces.forEach(killWorkers)
  await hub?.close()
  await Promise.all([cdn?.close(), sshd?.close(), ptySshd?.close()])
})

function theSet() {
  return {
    format: 'podpull-model-set',
    version: 1,
    name: 'test setup',
    models: [
      {
        source: {
          kind: 'huggingface',
          repo: 'org/set',
          file: 'split/unet.safetensors',
          revision: 'main'
        },
        folder: 'diffusion_models',
        name: 'unet.safetensors',
        size: unet.size,
        sha256: unet.sha256
      },
      {
        source: { kind: 'url', url: lora.url },
        folder: 'loras',
        name: 'lora.safetensors',
        sha256: lora.sha256
      },
      {
        source: { kind: 'url', url: vae.url },
        folder: 'vae',
        name: 'vae.safetensors',
        size: vae.size
      }
    ]
  }
}

async function addPod(env: NodeJS.ProcessEnv, name: string, via = sshd): Promise<string> {
  const ws = mkdtempSync(join(tmpdir(), 'podpull-sets-pod-'))
  workspaces.push(ws)
  mkdirSync(join(ws, 'ComfyUI', 'models'), { recursive: true })
  const add = await runCli(
    [
      ...['targets', 'add-ssh', name, '--host', '127.0.0.1', '--port', String(via.port)],
      ...['--user', via.user, '--key', via.keyPath, '--workspace', ws, '--accept-new-host-key']
    ],
    env
  )
  expect(add.code, add.stderr).toBe(0)
  return join(ws, 'ComfyUI', 'models')
}

function expectWholeSet(models: string): void {
  expect(sha256File(join(models, 'diffusion_models', 'unet.safetensors'))).toBe(unet.sha256)
  expect(sha256File(join(models, 'loras', 'lora.safetensors'))).toBe(lora.sha256)
  expect(sha256File(join(models, 'vae', 'vae.safetensors'))).toBe(vae.sha256)
}

describe('podpull sets', () => {
  it('applies one set to two pods and a local target, skipping what is there; export reproduces it', async () => {
    const c = freshComfy(['checkpoints'])
    const env = { PODPULL_HOME: c.home, HF_ENDPOINT: hub.hfUrl }
    await addLocalTarget(env, 'here', c.comfy)
    const podA = await addPod(env, 'pod-a')
    const podB = await addPod(env, 'pod-b', ptySshd) // PTY-only: chunks through the shell
    // pod-b already has the LoRA: it must be skipped there, not fetched again.
    mkdirSync(join(podB, 'loras'), { recursive: true })
    writeFileSync(join(podB, 'loras', 'lora.safetensors'), contentOf(lora.size, 'set-lora'))
    const setFile = join(c.base, 'test.podpull.json')
    writeFileSync(setFile, JSON.stringify(theSet(), null, 2))
    const placed = statSync(join(podB, 'loras', 'lora.safetensors'))

    const args = [
      'sets',
      'apply',
      setFile,
      '--target',
      'here',
      '--target',
      'pod-a',
      '--target',
      'pod-b'
    ]
    const r = await runCli(args, env)
    expect(r.code, r.stderr + r.stdout).toBe(0)
    for (const m of [c.models, podA, podB]) expectWholeSet(m)
    expect(r.stdout).toContain('here: complete — fetched 3, skipped 0 (present), failed 0')
    expect(r.stdout).toContain('pod-a: complete — fetched 3, skipped 0 (present), failed 0')
    expect(r.stdout).toContain('pod-b: complete — fetched 2, skipped 1 (present), failed 0')
    expect(r.stderr).toContain('[pod-b] present, skipped: loras/lora.safetensors')
    expect(r.stdout).toContain('3 of 3 targets have the whole set.')
    const kept = statSync(join(podB, 'loras', 'lora.safetensors'))
    expect([kept.ino, kept.mtimeMs]).toEqual([placed.ino, placed.mtimeMs])

    const again = await runCli(args, env)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('here: complete — fetched 0, skipped 3 (present), failed 0')
    expect(again.stdout).toContain('pod-b: complete — fetched 0, skipped 3 (present), failed 0')

    // The status file forgets finished downloads after a day; the workspace's
    // source record keeps where each file came from. Drop the status files
    // (both engines') so only the record can name the sources.
    rmSync(join(c.base, '.download_status.json'))
    rmSync(join(podA, '..', '..', '.download_status.json'))
    expect(readFileSync(join(podA, '..', '..', '.podpull', 'sources.jsonl'), 'utf8')).toContain(
      'lora.safetensors'
    )

    // Export what the local target has; apply it to an empty target.
    const ex = await runCli(['sets', 'export', '--target', 'here'], env)
    expect(ex.code, ex.stderr).toBe(0)
    const exported = JSON.parse(ex.stdout)
    expect(
      exported.models.map((m: { folder: string; name: string }) => `${m.folder}/${m.name}`).sort()
    ).toEqual([
      'diffusion_models/unet.safetensors',
      'loras/lora.safetensors',
      'vae/vae.safetensors'
    ])
    // The set said "main"; the exported set names the commit main is at now.
    const hf = exported.models.find((m: { name: string }) => m.name === 'unet.safetensors')
    expect(hf.source).toEqual({
      kind: 'huggingface',
      repo: 'org/set',
      file: 'split/unet.safetensors',
      revision: HUB_COMMIT
    })
    // What the set carried (or the source said) is kept; the size is always there.
    const byName = (n: string) => exported.models.find((m: { name: string }) => m.name === n)
    expect(byName('lora.safetensors').sha256).toBe(lora.sha256)
    expect(byName('vae.safetensors').size).toBe(vae.size)
    const exportedFile = join(c.base, 'exported.podpull.json')
    writeFileSync(exportedFile, ex.stdout)
    const empty = freshComfy(['checkpoints'])
    await addLocalTarget(env, 'empty', empty.comfy)
    const re = await runCli(['sets', 'apply', exportedFile, '--target', 'empty'], env)
    expect(re.code, re.stderr + re.stdout).toBe(0)
    expectWholeSet(empty.models)
    expect(hub.log.map((l) => l.path)).toContain(
      `/org/set/resolve/${HUB_COMMIT}/split/unet.safetensors`
    )

    // The same from a pod (the helper keeps the record there) onto an empty pod.
    const fromPod = await runCli(['sets', 'export', '--target', 'pod-a'], env)
    expect(fromPod.code, fromPod.stderr).toBe(0)
    const podSet = JSON.parse(fromPod.stdout)
    expect(podSet.models.map((m: { source: { kind: string } }) => m.source.kind).sort()).toEqual([
      'huggingface',
      'url',
      'url'
    ])
    const podSetFile = join(c.base, 'pod.podpull.json')
    writeFileSync(podSetFile, fromPod.stdout)
    const podC = await addPod(env, 'pod-c')
    const onPod = await runCli(['sets', 'apply', podSetFile, '--target', 'pod-c'], env)
    expect(onPod.code, onPod.stderr + onPod.stdout).toBe(0)
    expectWholeSet(podC)
  }, 240_000)

  it('a file with no recorded source is exported as "local"; applying the set sends it to pods (exec + SFTP and PTY-only)', async () => {
    const c = freshComfy(['loras'])
    const env = { PODPULL_HOME: c.home }
    // Larger than one PTY chunk, so the PTY-only pod gets it in several checked pieces.
    const mine = contentOf(600_000, 'home-trained')
    const mineSha = createHash('sha256').update(mine).digest('hex')
    writeFileSync(join(c.models, 'loras', 'mine.safetensors'), mine)
    await addLocalTarget(env, 'home', c.comfy)
    const ex = await runCli(['sets', 'export', '--target', 'home', '--folder', 'loras'], env)
    expect(ex.code, ex.stderr).toBe(0)
    const set = JSON.parse(ex.stdout)
    expect(set.models).toEqual([
      {
        source: { kind: 'local' },
        folder: 'loras',
        name: 'mine.safetensors',
        size: mine.length,
        sha256: mineSha
      }
    ])
    const other = freshComfy(['loras'])
    await addLocalTarget(env, 'other', other.comfy)
    const podA = await addPod(env, 'pod-a')
    const podB = await addPod(env, 'pod-b', ptySshd)
    const f = join(c.base, 'mine.podpull.json')
    writeFileSync(f, ex.stdout)
    const targets = ['other', 'home', 'pod-a', 'pod-b'].flatMap((t) => ['--target', t])
    const r = await runCli(['sets', 'apply', f, ...targets], env)
    expect(r.code, r.stderr + r.stdout).toBe(1) // "other" is a folder here: nothing is sent to it
    expect(r.stdout).toContain('other: INCOMPLETE')
    expect(r.stdout).toContain(
      `failed loras/mine.safetensors: a local file: files of this computer are sent to pods, and this target is a folder on this computer (it is at ${join(c.models, 'loras', 'mine.safetensors')})`
    )
    expect(r.stdout).toContain('home: complete — fetched 0, skipped 1 (present), failed 0')
    expect(r.stdout).toContain('pod-a: complete — fetched 1, skipped 0 (present), failed 0')
    expect(r.stdout).toContain('pod-b: complete — fetched 1, skipped 0 (present), failed 0')
    expect(r.stderr).toContain('[pod-a] sending loras/mine.safetensors')
    expect(r.stderr).toContain('[pod-b] sending loras/mine.safetensors')
    for (const pod of [podA, podB])
      expect(sha256File(join(pod, 'loras', 'mine.safetensors'))).toBe(mineSha)
    const status = await runCli(['status', '--target', 'pod-b'], env)
    expect(status.stdout).toContain('(upload)')

    // Applied again: the pods have it now, nothing is sent.
    const again = await runCli(['sets', 'apply', f, '--target', 'pod-a', '--target', 'pod-b'], env)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain('pod-b: complete — fetched 0, skipped 1 (present), failed 0')

    // A "local" entry this computer has no file for says so, and where to get it from.
    set.models[0] = { ...set.models[0], name: 'lost.safetensors', sha256: 'ab'.repeat(32) }
    writeFileSync(f, JSON.stringify(set))
    const lost = await runCli(['sets', 'apply', f, '--target', 'pod-a'], env)
    expect(lost.code).toBe(1)
    expect(lost.stdout).toContain(
      'failed loras/lost.safetensors: a local file this computer does not have (no local target holds a file with its sha256)'
    )
  }, 240_000)

  it('a catalog entry and a workflow become sets', async () => {
    const c = freshComfy(['loras'])
    const env = { PODPULL_HOME: c.home, HF_ENDPOINT: hub.hfUrl }
    const cat = await runCli(['sets', 'from-catalog', 'flux1-dev'], env)
    expect(cat.code, cat.stderr).toBe(0)
    const fromCatalog = JSON.parse(cat.stdout)
    expect(fromCatalog.models[0]).toMatchObject({
      source: {
        kind: 'huggingface',
        repo: 'black-forest-labs/FLUX.1-dev',
        file: 'flux1-dev.safetensors',
        revision: 'main'
      },
      folder: 'diffusion_models',
      name: 'flux1-dev.safetensors'
    })
    // The Hub fake has no such repo: the revision stays as written, and that is said.
    expect(cat.stderr).toContain('Not pinned to a commit')
    expect((await runCli(['sets', 'from-catalog', 'nope'], env)).code).not.toBe(0)

    writeFileSync(join(c.models, 'loras', 'mine.safetensors'), 'home-trained')
    await addLocalTarget(env, 'wf', c.comfy)
    const workflow = {
      nodes: [
        {
          id: 1,
          type: 'UNETLoader',
          properties: {
            models: [
              {
                name: 'unet.safetensors',
                url: 'https://huggingface.co/org/set/resolve/main/split/unet.safetensors',
                directory: 'diffusion_models'
              }
            ]
          },
          widgets_values: ['unet.safetensors', 'default']
        },
        { id: 2, type: 'LoraLoaderModelOnly', widgets_values: ['mine.safetensors', 1] },
        { id: 3, type: 'LoraLoaderModelOnly', widgets_values: ['mystery.safetensors', 1] }
      ]
    }
    const wfFile = join(c.base, 'wf.json')
    writeFileSync(wfFile, JSON.stringify(workflow))
    const wf = await runCli(['sets', 'from-workflow', wfFile, '--target', 'wf'], env)
    expect(wf.code, wf.stderr).toBe(0)
    const fromWorkflow = JSON.parse(wf.stdout)
    expect(fromWorkflow.models).toEqual([
      {
        source: { kind: 'local' },
        folder: 'loras',
        name: 'mine.safetensors',
        sha256: createHash('sha256').update('home-trained').digest('hex')
      },
      {
        source: {
          kind: 'huggingface',
          repo: 'org/set',
          file: 'split/unet.safetensors',
          revision: HUB_COMMIT
        },
        folder: 'diffusion_models',
        name: 'unet.safetensors',
        sha256: null
      }
    ])
    expect(wf.stderr).toContain(
      'Not in the set: loras/mystery.safetensors (nothing says where to get it)'
    )
  })

  it('a bad set file names its bad entry and line, exit 2, nothing started', async () => {
    const c = freshComfy(['loras'])
    const env = { PODPULL_HOME: c.home }
    await addLocalTarget(env, 't', c.comfy)
    const set = theSet()
    set.models[2]!.folder = '../../etc'
    const f = join(c.base, 'bad.podpull.json')
    writeFileSync(f, JSON.stringify(set, null, 2))
    const r = await runCli(['sets', 'apply', f, '--target', 't'], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/models\[2\]\.folder: must be a folder inside models\/.*\(line \d+\)/)
    const unknown = await runCli(['sets', 'apply', f, '--target', 'nope'], env)
    expect(unknown.code).toBe(2)
  })
})
