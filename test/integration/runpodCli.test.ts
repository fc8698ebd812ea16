// `podpull runpod …` and `podpull targets import-runpod` as a user runs them
// (the built CLI), against the loopback fake of RunPod's APIs and real sshds:
// one reached directly (a public port mapped to 22), one configured like
// RunPod's PTY-only SSH proxy (`<podHostId>@ssh.runpod.io`).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { fakePod, startFakeRunpod, type FakeRunpod } from '../harness/runpodApi'
import { assertBuilt, runCli } from '../support/cli'

let fake: FakeRunpod
let direct: SshdHarness
let proxy: SshdHarness
let base: string

beforeAll(async () => {
  assertBuilt()
  ;[fake, direct, proxy] = await Promise.all([
    startFakeRunpod(),
    startSshd(),
    startSshd({ ptyOnly: true, maxSessions: 1 })
  ])
  base = mkdtempSync(join(tmpdir(), 'podpull-runpod-'))
})
afterAll(async () => {
  await Promise.all([fake?.close(), direct?.close(), proxy?.close()])
  rmSync(base, { recursive: true, force: true })
})

function account(): void {
  fake.pods = [
    fakePod({ id: 'pd1direct', name: 'flux-box', portMappings: { '22': direct.port } }),
    fakePod({
      id: 'pd2proxy',
      name: 'proxy-box',
      publicIp: null,
      portMappings: {},
      podHostId: proxy.user,
      costPerHr: 0.44,
      gpu: { displayName: 'A40', count: 2 }
    }),
    fakePod({ id: 'pd3off', name: 'off-box', desiredStatus: 'EXITED' })
  ]
}

function env(home: string, key = fake.key): NodeJS.ProcessEnv {
  return {
    PODPULL_HOME: home,
    RUNPOD_API_KEY: key,
    PODPULL_RUNPOD_ENDPOINT: fake.rest,
    PODPULL_RUNPOD_GRAPHQL: fake.graphql,
    PODPULL_RUNPOD_SSH_PROXY: `127.0.0.1:${proxy.port}`,
    SSH_AUTH_SOCK: ''
  }
}

function pod(name: string): { home: string; ws: string } {
  const dir = join(base, name)
  const ws = join(dir, 'workspace')
  mkdirSync(join(ws, 'ComfyUI', 'models', 'loras'), { recursive: true })
  const home = join(dir, 'home')
  mkdirSync(home)
  return { home, ws }
}

describe('podpull runpod', () => {
  it('lists the account pods as a table and as JSON', async () => {
    account()
    const { home } = pod('list')
    const t = await runCli(['runpod', 'pods'], env(home))
    expect(t.stderr).toBe('')
    expect(t.code).toBe(0)
    expect(t.stdout).toMatch(
      /flux-box\s+pd1direct\s+RUNNING\s+RTX 4090\s+\$0\.69\/h\s+127\.0\.0\.1:/
    )
    expect(t.stdout).toMatch(
      /proxy-box\s+pd2proxy\s+RUNNING\s+2x A40\s+\$0\.44\/h\s+\S+@127\.0\.0\.1 \(proxy\)/
    )
    expect(t.stdout).toMatch(/off-box\s+pd3off\s+EXITED/)
    const j = await runCli(['runpod', 'pods', '--json'], env(home))
    expect(JSON.parse(j.stdout)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'pd3off', status: 'EXITED', ssh: null })
      ])
    )
  })

  it('says in one line that the key is refused, without printing it', async () => {
    account()
    const { home } = pod('badkey')
    const wrong = 'rpa_NOT_THE_KEY_4711'
    const r = await runCli(['runpod', 'pods'], env(home, wrong))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error: RunPod refused the API key/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr + r.stdout).not.toContain(wrong)
  })

  it('stops and starts a pod by name', async () => {
    account()
    const { home } = pod('startstop')
    const stop = await runCli(['runpod', 'stop', 'off-box'], env(home))
    expect(stop.stdout).toContain('Stopped pod "off-box" (pd3off): EXITED.')
    const start = await runCli(['runpod', 'start', 'off-box'], env(home))
    expect(start.code).toBe(0)
    expect(start.stdout).toContain('Started pod "off-box" (pd3off): RUNNING.')
    expect(fake.pods.find((p) => p.id === 'pd3off')?.desiredStatus).toBe('RUNNING')
  })
})

describe('podpull targets import-runpod', () => {
  it('imports a pod with a public SSH port as a direct target, after the host key is confirmed', async () => {
    account()
    const { home, ws } = pod('direct')
    const args = [
      'targets',
      'import-runpod',
      'flux-box',
      '--key',
      direct.keyPath,
      '--workspace',
      ws,
      '--comfyui',
      join(ws, 'ComfyUI')
    ]
    const first = await runCli(args, env(home))
    expect(first.code).toBe(2)
    expect(first.stderr).toContain(direct.hostKeyFingerprint)
    const ok = await runCli([...args, '--accept-new-host-key'], env(home))
    expect(ok.stderr).toBe('')
    expect(ok.stdout).toContain(`Added pod "flux-box"`)
    expect(ok.stdout).toContain(`via 127.0.0.1:${direct.port}, ComfyUI at ${join(ws, 'ComfyUI')}`)
    const list = JSON.parse((await runCli(['targets', 'list', '--json'], env(home))).stdout)
    expect(list).toEqual([
      expect.objectContaining({
        name: 'flux-box',
        config: expect.objectContaining({ runpodPodId: 'pd1direct', port: direct.port })
      })
    ])
  })

  it("imports a pod without a public port through RunPod's PTY-only proxy, and it works", async () => {
    account()
    const { home, ws } = pod('proxy')
    const add = await runCli(
      ['targets', 'import-runpod', 'pd2proxy', '--name', 'gpu', '--key', proxy.keyPath].concat([
        '--workspace',
        ws,
        '--comfyui',
        join(ws, 'ComfyUI'),
        '--accept-new-host-key'
      ]),
      env(home)
    )
    expect(add.stderr).toBe('')
    expect(add.stdout).toContain(`Added pod "gpu"`)
    expect(add.stdout).toContain(`via RunPod's SSH proxy, ComfyUI at ${join(ws, 'ComfyUI')}.`)
    const status = await runCli(['status', '--target', 'gpu', '--json'], env(home))
    expect(status.stderr).toBe('')
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toEqual({})
  })

  it('refuses a stopped pod and says how to start it', async () => {
    account()
    const { home, ws } = pod('stopped')
    const r = await runCli(['targets', 'import-runpod', 'off-box', '--workspace', ws], env(home))
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      'is not running (EXITED): start it with "podpull runpod start pd3off"'
    )
  })
})
