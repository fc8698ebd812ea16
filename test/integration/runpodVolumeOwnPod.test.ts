// A network volume that one of the user's own GPU pods already has mounted:
// PodPull works through that pod (found through the loopback fake of RunPod's
// API, reached over a real sshd), creates no fill pod and never removes the
// user's pod. Also: a volume added by its name rather than its id, and the
// volume's models listed through whichever pod has it.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fakePod } from '../harness/runpodApi'
import { runCli } from '../support/cli'
import { sha256File } from '../support/localFiles'
import { volumeBench, volumeTarget } from '../support/volumeFill'

const b = volumeBench('volown')
const TEST_MS = 240_000

describe('a volume mounted on the user’s own pod', () => {
  it(
    'downloads through that pod, lists its models, and neither creates nor removes a pod',
    async () => {
      const { ws, env } = await volumeTarget(b, 'volown')
      // No pod has the volume yet: listing its models says so and starts none.
      const none = await runCli(['models', '--target', 'vol'], env)
      expect(none.code).toBe(1)
      expect(none.stderr.trim()).toBe(
        'Error: No pod has the volume "volown" mounted: fill it with a CPU pod ("Fill…" in the dashboard, or add --yes to the command).'
      )
      // The user's GPU pod with the volume: the key pair's own sshd plays it.
      b.fake.pods.push(
        fakePod({
          id: 'gpu-mine',
          networkVolumeId: 'volown',
          portMappings: { '22': b.keys.port }
        })
      )
      const file = b.server.addFile('/volown/lora.safetensors', { size: 900_000, seed: 'volown' })

      // No --yes: a pod is already there, so there is no cost to accept. PodPull
      // did not create that pod, so its host key is the user's to confirm first.
      const args = ['download', file.url, '--target', 'vol', '--folder', 'loras']
      const first = await runCli(args, env)
      expect(first.code).toBe(1)
      const fp = b.keys.hostKeyFingerprint
      expect(first.stderr).toContain(
        `The pod gpu-mine has the volume "volown" mounted, but its host key is not trusted yet (${fp}). `
      )
      expect(first.stderr).toContain(`podpull targets trust vol --fingerprint ${fp}`)
      const trust = await runCli(['targets', 'trust', 'vol', '--fingerprint', fp], env)
      expect(trust.code, trust.stderr).toBe(0)

      const ok = await runCli(args, env)
      expect(ok.code, ok.stderr + ok.stdout).toBe(0)
      const dest = join(ws, 'ComfyUI', 'models', 'loras', 'lora.safetensors')
      expect(ok.stdout).toContain(`Saved ${dest}`)
      expect(sha256File(dest)).toBe(file.sha256)
      expect(ok.stderr).not.toContain('CPU pod')

      const st = await runCli(['status', '--target', 'vol'], env)
      expect(st.stdout).toMatch(/"vol": your pod gpu-mine: RUNNING .*\(PodPull never removes it\)/)

      const models = await runCli(['models', '--target', 'vol', '--json'], env)
      expect(models.code, models.stderr).toBe(0)
      expect(JSON.parse(models.stdout).models).toContainEqual(
        expect.objectContaining({ folder: 'loras', name: 'lora.safetensors', size: 900_000 })
      )
      const table = await runCli(['models', '--target', 'vol'], env)
      expect(table.stdout).toMatch(/^loras\/\n {2}lora\.safetensors {2}900\.0 KB/m)

      expect(b.fake.created).toEqual([])
      expect(b.fake.requests.filter((r) => r.method !== 'GET' && r.path !== '/graphql')).toEqual([])
      expect(b.fake.pods.map((p) => p.id)).toContain('gpu-mine')
      // Only a pod PodPull created gets the watchdog that removes it.
      expect(existsSync(join(ws, '.podpull', 'fill-watchdog-gpu-mine.log'))).toBe(false)
    },
    TEST_MS
  )
})

describe('adding a volume target by name', () => {
  it(
    'finds the volume by its name, and asks for the id when the name is not unique',
    async () => {
      const { home } = await volumeTarget(b, 'volbyid')
      b.fake.volumes.push(
        { id: 'v7k2q9', name: 'flux-models', size: 100, dataCenterId: 'US-KS-2' },
        { id: 'a1b2c3', name: 'twins', size: 20, dataCenterId: 'EU-RO-1' },
        { id: 'd4e5f6', name: 'twins', size: 20, dataCenterId: 'EU-SE-1' }
      )
      const env = {
        PODPULL_HOME: home,
        RUNPOD_API_KEY: b.fake.key,
        PODPULL_RUNPOD_ENDPOINT: b.fake.rest,
        PODPULL_RUNPOD_GRAPHQL: b.fake.graphql
      }
      const add = (name: string, volume: string) =>
        runCli(['targets', 'add-runpod-volume', name, '--volume', volume], env)

      const ok = await add('flux', 'flux-models')
      expect(ok.code, ok.stderr).toBe(0)
      expect(ok.stdout).toContain('Added volume "flux-models" (v7k2q9, US-KS-2) as target "flux"')
      const list = JSON.parse((await runCli(['targets', 'list', '--json'], env)).stdout)
      expect(list.find((t: { name: string }) => t.name === 'flux').config.runpodVolume).toEqual({
        id: 'v7k2q9',
        name: 'flux-models',
        dataCenterId: 'US-KS-2'
      })

      const twins = await add('t', 'twins')
      expect(twins.code).toBe(2)
      expect(twins.stderr.trim()).toBe(
        'Error: 2 network volumes are named "twins": use the volume id (a1b2c3, d4e5f6).'
      )
      const byId = await add('t', 'd4e5f6')
      expect(byId.code, byId.stderr).toBe(0)
      expect(byId.stdout).toContain('Added volume "twins" (d4e5f6, EU-SE-1) as target "t"')

      const unknown = await add('u', 'no-such-volume')
      expect(unknown.code).toBe(2)
      expect(unknown.stderr.trim()).toBe(
        'Error: No network volume with the id or name "no-such-volume".'
      )
      const again = await add('f2', 'flux-models')
      expect(again.code).toBe(2)
      expect(again.stderr.trim()).toBe(
        'Error: The volume "flux-models" is already the target "flux".'
      )
      expect(b.fake.created).toEqual([])
    },
    TEST_MS
  )
})
