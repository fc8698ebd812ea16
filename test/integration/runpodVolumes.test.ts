// RunPod network volumes through the built CLI, against the loopback fake of
// RunPod's API: volumes listed, a volume added as a target, and filled by a
// CPU pod the fake brings up as a REAL sshd (authorized_keys = the PUBLIC_KEY
// PodPull sent, the volume's folder as its workspace). The pod is created only
// with consent, exactly once, removed when the queue is done, reused by a
// client run again after a kill, removed at the next start when a run left it
// behind (its own watchdog is tested in runpodVolumeWatchdog.test.ts).
// The account key reaches none of: the pod's processes, the status file, the
// logs, the diagnostics archive.
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeRunpod, type FakeRunpod } from '../harness/runpodApi'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { assertBuilt, collect, runCli, spawnCli } from '../support/cli'
import { stopPodProcesses } from '../support/podTarget'
import { waitFor } from '../support/wait'
import { sha256File } from '../support/localFiles'

const MiB = 1 << 20
/** Bounds for a test already failing: creating a pod starts an sshd and puts the helper in place. */
const SLOW = { ms: 120_000 }
const TEST_MS = 240_000
let fake: FakeRunpod
let server: ModelServer
let keys: SshdHarness // only for a client key pair (ssh-keygen'd in its temp dir)
let base: string
const volumeDirs: string[] = []

beforeAll(async () => {
  assertBuilt()
  ;[fake, server, keys] = await Promise.all([startFakeRunpod(), startModelServer(), startSshd()])
  base = mkdtempSync(join(tmpdir(), 'podpull-volumes-'))
})
afterEach(async () => {
  fake.createFault = 'none'
  fake.createdPrice = 0.06
  await fake.settled()
  volumeDirs.splice(0).forEach(stopPodProcesses)
})
afterAll(async () => {
  await Promise.all([fake?.close(), server?.close(), keys?.close()])
  rmSync(base, { recursive: true, force: true })
})

/** A volume in the account, its folder (what pods mount) and a PODPULL_HOME. */
function volume(name: string, dc = 'EU-RO-1'): { id: string; ws: string; home: string } {
  const dir = join(base, name)
  const ws = join(dir, 'volume')
  mkdirSync(join(ws, 'ComfyUI', 'models', 'loras'), { recursive: true })
  const home = join(dir, 'home')
  mkdirSync(home)
  const id = `vol${name}`
  fake.volumes.push({ id, name, size: 50, dataCenterId: dc })
  fake.volumeDirs[id] = ws
  volumeDirs.push(ws)
  return { id, ws, home }
}

function env(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PODPULL_HOME: home,
    RUNPOD_API_KEY: fake.key,
    PODPULL_RUNPOD_ENDPOINT: fake.rest,
    PODPULL_RUNPOD_GRAPHQL: fake.graphql,
    SSH_AUTH_SOCK: '',
    ...extra
  }
}

async function addVolume(v: { id: string; ws: string; home: string }, name: string) {
  const r = await runCli(
    ['targets', 'add-runpod-volume', name, '--volume', v.id, '--key', keys.keyPath].concat([
      '--workspace',
      v.ws,
      '--comfyui',
      join(v.ws, 'ComfyUI')
    ]),
    env(v.home)
  )
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return r
}

function filesContaining(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile() && readFileSync(f).includes(needle))
}

const createdFor = (volumeId: string) =>
  fake.created.filter((c) => c.body.networkVolumeId === volumeId)

describe('network volumes', () => {
  it(
    'lists the volumes with datacenter and size, as a table and as JSON',
    async () => {
      const v = volume('models', 'EU-RO-1')
      const t = await runCli(['runpod', 'volumes'], env(v.home))
      expect(t.stderr).toBe('')
      expect(t.stdout).toMatch(/NAME\s+ID\s+DATACENTER\s+SIZE\s+MODELS USE\s+TARGET/)
      // Never listed through a pod: the used space is unknown, and the table says why.
      expect(t.stdout).toMatch(/models\s+volmodels\s+EU-RO-1\s+50 GB\s+unknown\s+-/)
      expect(t.stdout).toContain('"unknown": no pod with that volume has been listed yet')
      const j = await runCli(['runpod', 'volumes', '--json'], env(v.home))
      expect(JSON.parse(j.stdout)).toContainEqual({
        id: 'volmodels',
        name: 'models',
        sizeGb: 50,
        dataCenterId: 'EU-RO-1',
        usage: null
      })
    },
    TEST_MS
  )

  it(
    "documents the fill's image, lifetime cap, idle rule and price list in the command's help",
    async () => {
      const v = volume('help')
      const h = await runCli(['targets', 'add-runpod-volume', '--help'], env(v.home))
      expect(h.code).toBe(0)
      const help = h.stdout.replace(/\s+/g, ' ')
      expect(help).toContain('--image <ref>')
      expect(help).toContain('runpod/base:1.0.2-ubuntu2204')
      expect(help).toContain("PODPULL_FILL_MAX_SECONDS the pod's own watchdog removes it")
      expect(help).toContain('(it can only shorten the lifetime)')
      expect(help).toContain('PODPULL_FILL_IDLE_SECONDS')
      expect(help).toMatch(/PodPull's \d{4}-\d{2} list/)
      expect(help).toContain('PODPULL_CPU_PRICES')
      const add = await runCli(
        ['targets', 'add-runpod-volume', 'vol', '--volume', v.id, '--image', 'team/fill:2'],
        env(v.home)
      )
      expect(add.code, add.stderr).toBe(0)
      const list = JSON.parse((await runCli(['targets', 'list', '--json'], env(v.home))).stdout)
      expect(list[0].config.runpodVolume).toMatchObject({ id: v.id, image: 'team/fill:2' })
      const bad = await runCli(
        ['targets', 'add-runpod-volume', 'vol2', '--volume', v.id, '--image', 'x; rm -rf /'],
        env(v.home)
      )
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain('an image reference such as runpod/base:1.0.2-ubuntu2204')
    },
    TEST_MS
  )

  it(
    'a set applied to a volume asks first; with --yes one CPU pod fetches it and receives its own file, then is removed',
    async () => {
      const v = volume('setfill', 'EU-RO-1')
      await addVolume(v, 'vol')
      // The user's own LoRA, in a ComfyUI of this computer.
      const comfy = join(base, 'setfill', 'home-comfy', 'ComfyUI')
      mkdirSync(join(comfy, 'models', 'loras'), { recursive: true })
      const mine = Buffer.from('home-trained LoRA '.repeat(4000))
      const mineSha = createHash('sha256').update(mine).digest('hex')
      writeFileSync(join(comfy, 'models', 'loras', 'mine.safetensors'), mine)
      const home = await runCli(['targets', 'add-local', 'home', '--comfyui', comfy], env(v.home))
      expect(home.code, home.stderr).toBe(0)
      const vae = server.addFile('/setfill/vae.safetensors', { size: 2 * MiB, seed: 'setfill' })
      const setFile = join(base, 'setfill', 'kit.podpull.json')
      writeFileSync(
        setFile,
        JSON.stringify({
          format: 'podpull-model-set',
          version: 1,
          name: 'kit',
          models: [
            { source: { kind: 'url', url: vae.url }, folder: 'vae', name: 'vae.safetensors' },
            {
              source: { kind: 'local' },
              folder: 'loras',
              name: 'mine.safetensors',
              sha256: mineSha
            }
          ]
        })
      )
      const args = ['sets', 'apply', setFile, '--target', 'vol']

      const asked = await runCli(args, env(v.home))
      expect(asked.code).toBe(1)
      expect(asked.stdout).toContain('vol: INCOMPLETE')
      expect(asked.stdout).toContain('starts a CPU pod in EU-RO-1 with the volume "setfill"')
      expect(asked.stdout).toContain('Add --yes to accept.')
      expect(createdFor(v.id)).toHaveLength(0)

      const ok = await runCli([...args, '--yes'], env(v.home))
      expect(ok.code, ok.stderr + ok.stdout).toBe(0)
      expect(ok.stdout).toContain('vol: complete — fetched 2, skipped 0 (present), failed 0')
      expect(ok.stderr).toContain('[vol] sending loras/mine.safetensors')
      const models = join(v.ws, 'ComfyUI', 'models')
      expect(sha256File(join(models, 'vae', 'vae.safetensors'))).toBe(vae.sha256)
      expect(sha256File(join(models, 'loras', 'mine.safetensors'))).toBe(mineSha)
      const created = createdFor(v.id)
      expect(created).toHaveLength(1)
      expect(fake.deleted).toContain(created[0]!.podId)
    },
    TEST_MS
  )

  it(
    'fills a volume through one CPU pod created only with --yes, then removes it',
    async () => {
      const v = volume('fill', 'EU-RO-1')
      await addVolume(v, 'vol')
      const file = server.addFile('/fill/lora.safetensors', { size: 3 * MiB, seed: 'fill' })
      const args = ['download', file.url, '--target', 'vol', '--folder', 'loras']

      const asked = await runCli(args, env(v.home))
      expect(asked.code).toBe(2)
      expect(asked.stderr).toContain(
        'starts a CPU pod in EU-RO-1 with the volume "fill", ≈ $0.06/h; removed when the downloads finish'
      )
      expect(asked.stderr).toContain('--yes')
      expect(createdFor(v.id)).toHaveLength(0)

      const ok = await runCli([...args, '--yes'], env(v.home))
      expect(ok.stderr).toMatch(/CPU pod ran \d+ min, ≈ \$0\.\d\d; the pod was removed\./)
      expect(ok.code).toBe(0)
      const dest = join(v.ws, 'ComfyUI', 'models', 'loras', 'lora.safetensors')
      expect(ok.stdout).toContain(`Saved ${dest}`)
      expect(sha256File(dest)).toBe(file.sha256)

      const created = createdFor(v.id)
      expect(created).toHaveLength(1)
      const body = created[0]!.body
      expect(body).toMatchObject({
        computeType: 'CPU',
        networkVolumeId: v.id,
        dataCenterIds: ['EU-RO-1'],
        volumeMountPath: v.ws,
        ports: ['22/tcp'],
        supportPublicIp: true,
        env: { PUBLIC_KEY: keys.publicKey },
        imageName: 'runpod/base:1.0.2-ubuntu2204'
      })
      expect(body.cpuFlavorIds).toEqual(expect.arrayContaining(['cpu3c']))
      expect(body).not.toHaveProperty('gpuTypeIds')
      expect(body).not.toHaveProperty('gpuCount')
      expect(fake.deleted).toContain(created[0]!.podId)
      expect(fake.pods.some((p) => p.id === created[0]!.podId)).toBe(false)
      const settings = JSON.parse(readFileSync(join(v.home, 'config.json'), 'utf8'))
      expect(settings.fillPods).toEqual({})

      // The pod is gone, but the listing taken before its removal stays, with its time.
      const seen = await runCli(['runpod', 'volumes'], env(v.home))
      expect(seen.stdout).toMatch(
        /fill\s+volfill\s+EU-RO-1\s+50 GB\s+3\.1 MB, as of just now\s+vol/
      )
      const usage = JSON.parse(
        (await runCli(['runpod', 'volumes', '--json'], env(v.home))).stdout
      ).find((x: { id: string }) => x.id === v.id).usage
      expect(usage).toMatchObject({ usedBytes: 3 * MiB, files: 1, podId: created[0]!.podId })
      expect(usage.at).toBeGreaterThan(Date.now() - 10 * 60_000)
    },
    TEST_MS
  )

  it(
    'marks the bill as an estimate when RunPod quotes no price for the fill pod',
    async () => {
      const v = volume('unpriced')
      await addVolume(v, 'vol')
      fake.createdPrice = null
      const file = server.addFile('/unpriced/a.safetensors', { size: MiB, seed: 'unpriced' })
      const ok = await runCli(
        ['download', file.url, '--target', 'vol', '--folder', 'loras', '--yes'],
        env(v.home, { PODPULL_CPU_PRICES: 'cpu5g=0.5' })
      )
      expect(ok.code, ok.stderr).toBe(0)
      // The dearest flavor PodPull allowed (here the overridden one) prices the bill.
      expect(ok.stderr).toMatch(
        /CPU pod ran \d+ min, ≈ \$\d+\.\d\d \(estimated price\); the pod was removed\./
      )
      expect(createdFor(v.id)[0]!.body.cpuFlavorIds).toEqual(['cpu3c', 'cpu3g', 'cpu5c', 'cpu5g'])
    },
    TEST_MS
  )

  it(
    'says in one sentence what to try when RunPod refuses the pod',
    async () => {
      const v = volume('refused')
      await addVolume(v, 'vol')
      const file = server.addFile('/refused/a.safetensors', { size: MiB, seed: 'r' })
      for (const [fault, advice] of [
        ['price', /raise the price cap/],
        ['quota', /remove a pod you no longer use/],
        ['capacity', /wait a few minutes/]
      ] as const) {
        fake.createFault = fault
        const r = await runCli(
          ['download', file.url, '--target', 'vol', '--folder', 'loras', '--yes'],
          env(v.home)
        )
        expect(r.code).toBe(1)
        const lines = r.stderr.trim().split('\n')
        expect(lines.at(-1)).toMatch(/^Error: RunPod did not create the fill pod \(.+\): /)
        expect(lines.at(-1)).toMatch(advice)
      }
      expect(createdFor(v.id)).toHaveLength(0)
    },
    TEST_MS
  )

  it(
    'a killed client run again reuses the fill pod, fetches the file about once and removes the pod',
    async () => {
      const v = volume('killed')
      await addVolume(v, 'vol')
      const size = 8 * MiB
      const file = server.addFile('/killed/big.safetensors', {
        size,
        seed: 'killed',
        holdAt: 3 * MiB
      })
      const first = spawnCli(
        [
          'download',
          file.url,
          '--target',
          'vol',
          '--folder',
          'loras',
          '--connections',
          '1',
          '--yes'
        ],
        env(v.home)
      )
      first.on('error', () => undefined)
      const statusFile = join(v.ws, '.download_status.json')
      const id = await waitFor(
        () => {
          try {
            const s = JSON.parse(readFileSync(statusFile, 'utf8')) as Record<string, { id: string }>
            return Object.values(s)[0]?.id
          } catch {
            return undefined
          }
        },
        'the download on the volume',
        SLOW
      )
      await waitFor(
        () => server.bytesServed('/killed/big.safetensors') >= 3 * MiB,
        'bytes at the gate',
        SLOW
      )
      // The account key is on no command line of the pod (its processes run here).
      const argv = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      expect(argv).not.toContain(fake.key)
      first.kill('SIGKILL')
      await collect(first)
      expect(createdFor(v.id)).toHaveLength(1)

      // Run again while the pod still works (the helper goes on without a client).
      const second = spawnCli(['resume', id, '--target', 'vol', '--yes'], env(v.home))
      second.on('error', () => undefined)
      const running = collect(second)
      let err = ''
      second.stderr!.on('data', (d) => (err += d))
      await waitFor(() => /downloading/.test(err), 'the second run to follow the download', SLOW)
      server.setFaults('/killed/big.safetensors', { holdAt: undefined })
      const again = await running
      expect(again.stderr).toMatch(/CPU pod ran \d+ min/)
      expect(again.code).toBe(0)
      expect(createdFor(v.id)).toHaveLength(1)
      const dest = join(v.ws, 'ComfyUI', 'models', 'loras', 'big.safetensors')
      expect(sha256File(dest)).toBe(file.sha256)
      expect(server.bytesServed('/killed/big.safetensors')).toBeLessThanOrEqual(size * 1.05)
      expect(fake.deleted).toContain(createdFor(v.id)[0]!.podId)

      // Nothing of the account key on the volume (status file, logs) or in PodPull's logs.
      expect(filesContaining(v.ws, fake.key)).toEqual([])
      expect(filesContaining(v.home, fake.key)).toEqual([])
    },
    TEST_MS
  )

  it(
    'removes a fill pod a run left behind at the next start',
    async () => {
      const v = volume('leftover')
      await addVolume(v, 'vol')
      // Held until the client has gone, so only the pod knows the work ended.
      const file = server.addFile('/leftover/a.safetensors', {
        size: MiB,
        seed: 'left',
        holdAt: MiB / 2
      })
      const detached = await runCli(
        ['download', file.url, '--target', 'vol', '--folder', 'loras', '--yes', '--detach'],
        env(v.home)
      )
      expect(detached.code).toBe(0)
      const podId = createdFor(v.id)[0]!.podId
      // While it works, `status` names the pod, whose it is and what it costs.
      const st = await runCli(['status', '--target', 'vol'], env(v.home))
      expect(st.stdout + st.stderr).toMatch(
        new RegExp(
          `CPU fill pod ${podId}: RUNNING for \\d+ min, ≈ \\$\\d+\\.\\d\\d so far \\(removed when the downloads finish\\)`
        )
      )
      server.setFaults('/leftover/a.safetensors', { holdAt: undefined })
      await waitFor(
        () => existsSync(join(v.ws, 'ComfyUI', 'models', 'loras', 'a.safetensors')),
        'the download to finish on the pod',
        SLOW
      )
      expect(fake.pods.some((p) => p.id === podId)).toBe(true)
      const next = await runCli(['targets', 'list'], env(v.home))
      expect(next.code).toBe(0)
      expect(next.stderr).toContain(`Removed a leftover CPU fill pod ${podId}.`)
      expect(fake.deleted).toContain(podId)
    },
    TEST_MS
  )

  it(
    'leaves the API key out of the diagnostics archive',
    async () => {
      const v = volume('diag')
      await addVolume(v, 'vol')
      const out = join(base, 'diag', 'd.tar.gz')
      const r = await runCli(['diagnostics', '--output', out], env(v.home))
      expect(r.code).toBe(0)
      const text = execFileSync('tar', ['-xzOf', out], { encoding: 'utf8' })
      expect(text).toContain('runpodVolume')
      expect(text).not.toContain(fake.key)
    },
    TEST_MS
  )
})
