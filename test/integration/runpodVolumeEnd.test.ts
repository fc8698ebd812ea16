// A fill pod must not bill on once its work has ended some other way than by
// finishing: the user cancels the download, or the download fails for good
// on the pod. Either way PodPull removes the pod (the fake RunPod API sees
// the DELETE), forgets its record and says what it cost. Pods are the
// loopback fake's real sshds; waits are on files and requests, never on time.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../support/cli'
import { volumeBench, volumeTarget } from '../support/volumeFill'

const b = volumeBench('volend')
const TEST_MS = 240_000
const BILL = /CPU pod ran \d+ min, ≈ \$\d+\.\d\d; the pod was removed\./

const podOf = (volumeId: string): string =>
  b.fake.created.find((c) => c.body.networkVolumeId === volumeId)!.podId
const fillPods = (home: string): unknown =>
  JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')).fillPods

describe('a fill pod whose work ended early', () => {
  it(
    'is removed when the user cancels its download',
    async () => {
      const { ws, home, env } = await volumeTarget(b, 'volcancel')
      const file = b.server.addFile('/volcancel/a.safetensors', {
        size: 1 << 20,
        seed: 'volcancel',
        holdAt: 1 << 19
      })
      const started = await runCli(
        ['download', file.url, '--target', 'vol', '--folder', 'loras', '--yes', '--detach'],
        env
      )
      expect(started.code, started.stderr).toBe(0)
      const id = started.stdout.trim()
      const podId = podOf('volcancel')
      expect(b.fake.deleted).not.toContain(podId)

      const cancel = await runCli(['cancel', id, '--target', 'vol'], env)
      expect(cancel.code, cancel.stderr).toBe(0)
      expect(cancel.stdout).toContain(`Cancelled ${id}.`)
      expect(cancel.stderr).toMatch(BILL)
      expect(b.fake.deleted).toEqual([podId])
      expect(fillPods(home)).toEqual({})
      const status = JSON.parse(readFileSync(join(ws, '.download_status.json'), 'utf8'))
      expect(Object.values(status).map((e) => (e as { status: string }).status)).toEqual([
        'cancelled'
      ])
      // Nothing left to say about a pod: the volume waits for the next fill.
      const st = await runCli(['status', '--target', 'vol'], env)
      expect(st.stdout).toContain('"vol": no pod has the volume mounted')
    },
    TEST_MS
  )

  it(
    'is removed when its download fails for good, and the failure is what the command says',
    async () => {
      const { ws, home, env } = await volumeTarget(b, 'volfail')
      const file = b.server.addFile('/volfail/a.safetensors', { size: 600_000, seed: 'volfail' })
      const wrong = 'f'.repeat(64)
      const r = await runCli(
        [
          ...['download', file.url, '--target', 'vol', '--folder', 'loras'],
          ...['--sha256', wrong, '--yes']
        ],
        env
      )
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(
        `Error: The file's SHA-256 is ${file.sha256}, not the expected ${wrong}`
      )
      expect(r.stderr).toMatch(BILL)
      expect(b.fake.deleted).toContain(podOf('volfail'))
      expect(fillPods(home)).toEqual({})
      expect(existsSync(join(ws, 'ComfyUI', 'models', 'loras', 'a.safetensors'))).toBe(false)
    },
    TEST_MS
  )
})
