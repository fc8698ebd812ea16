// A set applied to a RunPod network volume target (against the loopback fake
// of RunPod's API, whose "pod" is a real sshd on the volume's folder): without
// --yes it asks and creates nothing; with --yes the files land through one CPU
// fill pod, which is removed when the set is done.
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../support/cli'
import { volumeBench, volumeTarget } from '../support/volumeFill'

const bench = volumeBench('setvol')

describe('a set applied to a volume target', () => {
  it('asks before creating the fill pod, then fills the volume through it and removes it', async () => {
    const { fake, server, base } = bench
    const { ws, env } = await volumeTarget(bench, 'volset')
    const a = server.addFile('/setvol/a.safetensors', { size: 200_000, seed: 'setvol-a' })
    const b = server.addFile('/setvol/b.safetensors', { size: 90_000, seed: 'setvol-b' })
    const set = {
      format: 'podpull-model-set',
      version: 1,
      name: 'volume set',
      models: [a, b].map((f, i) => ({
        source: { kind: 'url', url: f.url },
        folder: 'loras',
        name: `f${i}.safetensors`,
        sha256: f.sha256
      }))
    }
    const file = join(base, 'vol.podpull.json')
    writeFileSync(file, JSON.stringify(set))

    const asked = await runCli(['sets', 'apply', file, '--target', 'vol'], env)
    expect(asked.code).toBe(1)
    expect(asked.stdout).toContain('vol: INCOMPLETE')
    expect(asked.stdout).toContain('--yes')
    expect(fake.created).toHaveLength(0)

    const ok = await runCli(['sets', 'apply', file, '--target', 'vol', '--yes'], env)
    expect(ok.code, ok.stderr + ok.stdout).toBe(0)
    expect(ok.stdout).toContain('vol: complete — fetched 2, skipped 0 (present), failed 0')
    expect(ok.stderr).toMatch(/the pod was removed\./)
    const sha = (n: string) =>
      createHash('sha256')
        .update(readFileSync(join(ws, 'ComfyUI', 'models', 'loras', n)))
        .digest('hex')
    expect([sha('f0.safetensors'), sha('f1.safetensors')]).toEqual([a.sha256, b.sha256])
    expect(fake.created).toHaveLength(1)
    expect(fake.deleted).toContain(fake.created[0]!.podId)
  }, 180_000)
})
