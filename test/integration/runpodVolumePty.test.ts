// A network volume filled through a CPU pod that has no public SSH port, so
// the only way in is RunPod's PTY-only proxy (`<podHostId>@ssh.runpod.io`: a
// terminal, no exec, no SFTP, one channel). The loopback fake of RunPod's API
// brings the pod up as a real sshd configured like that proxy, reached only
// through the fake's relay. The download must land the right bytes on the
// volume through the PTY transport, from one pod, which is removed after.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../support/cli'
import { volumeBench, volumeTarget } from '../support/volumeFill'

const b = volumeBench('volpty')

describe("a volume filled through RunPod's PTY-only proxy", () => {
  it('lands the right bytes through one fill pod without a public port, then removes it', async () => {
    b.fake.createVia = 'proxy'
    const { ws, home, env } = await volumeTarget(b, 'volpty', {
      PODPULL_RUNPOD_SSH_PROXY: b.fake.proxyAddress
    })
    const file = b.server.addFile('/volpty/lora.safetensors', { size: 700_000, seed: 'volpty' })

    const ok = await runCli(
      ['download', file.url, '--target', 'vol', '--folder', 'loras', '--yes'],
      env
    )
    expect(ok.code, ok.stderr + ok.stdout).toBe(0)
    expect(ok.stderr).toMatch(/CPU pod ran \d+ min, ≈ \$\d+\.\d\d; the pod was removed\./)
    const dest = join(ws, 'ComfyUI', 'models', 'loras', 'lora.safetensors')
    expect(createHash('sha256').update(readFileSync(dest)).digest('hex')).toBe(file.sha256)

    // One pod, asked for a public port as always, that got none: every SSH
    // connection went through the proxy.
    expect(b.fake.created).toHaveLength(1)
    expect(b.fake.created[0]!.body).toMatchObject({ ports: ['22/tcp'], networkVolumeId: 'volpty' })
    expect(b.fake.proxyConnections).toBeGreaterThan(0)
    const podId = b.fake.created[0]!.podId
    expect(b.fake.deleted).toEqual([podId])
    // The pod's own watchdog (what removes it when PodPull is gone) was
    // started through the terminal as well.
    expect(existsSync(join(ws, '.podpull', `fill-watchdog-${podId}.log`))).toBe(true)
    // Its host key was pinned only while it lived.
    const settings = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'))
    expect(settings.fillPods).toEqual({})
    expect(Object.keys(settings.knownHosts)).toEqual([])
  }, 240_000)
})
