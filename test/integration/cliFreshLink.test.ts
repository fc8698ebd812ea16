// Signed links expire: the CLI continues a kept `.part` with a fresh link,
// either by downloading the fresh link to the same folder and name or with
// `podpull resume ID --url FRESH_URL`, on a local target (TypeScript engine)
// and on a pod target (the helper over a real sshd).
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { assertBuilt, freshComfy, runCli } from '../support/cli'

let srv: ModelServer
let sshd: SshdHarness
const MiB = 1 << 20

beforeAll(async () => {
  assertBuilt()
  ;[srv, sshd] = await Promise.all([startModelServer(), startSshd()])
})
afterAll(async () => {
  await Promise.all([srv?.close(), sshd?.close()])
})

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex')
const statusOf = (workspace: string): Record<string, Record<string, unknown>> =>
  JSON.parse(readFileSync(join(workspace, '.download_status.json'), 'utf8'))

type Kind = 'local' | 'pod'

/** A target named "t" of that kind over a fresh ComfyUI folder. */
async function target(kind: Kind) {
  const c = freshComfy()
  const env = { PODPULL_HOME: c.home }
  const args =
    kind === 'local'
      ? ['targets', 'add-local', 't', '--comfyui', c.comfy]
      : ['targets', 'add-ssh', 't', '--host', sshd.host, '--port', String(sshd.port)]
          .concat(['--user', sshd.user, '--key', sshd.keyPath, '--workspace', c.base])
          .concat(['--comfyui', c.comfy, '--accept-new-host-key'])
  const add = await runCli(args, env)
  expect(add.code, add.stderr).toBe(0)
  return { ...c, env }
}

const signed = (url: string, sig: string): string =>
  `${url}?X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=${sig}`

describe.each<Kind>(['local', 'pod'])('a fresh link continues the .part (%s target)', (kind) => {
  it('a link that starts answering 403 halfway keeps the .part; downloading a fresh link finishes it', async () => {
    const t = await target(kind)
    // The link expires after 12 MB of 30 MB, on the default number of connections:
    // every byte the server sent before that is kept (≤ 1.02× over both links).
    const size = 30_000_000
    const f = srv.addFile(`/fresh-${kind}/m.safetensors`, {
      size,
      seed: `fresh-${kind}`,
      requireQuery: { 'X-Amz-Signature': 'sigold1' },
      expireAfterBytes: 12_000_000,
      throttleBps: 8 * MiB
    })
    const dl = (url: string) =>
      runCli(
        ['download', url, '--target', 't', '--folder', 'loras', '--filename', 'm.safetensors'],
        t.env
      )
    const first = await dl(signed(f.url, 'sigold1'))
    expect(first.code, first.stdout + first.stderr).toBe(1)
    expect(first.stderr).toMatch(/paste a fresh link to continue from \d/)
    expect(first.stderr + first.stdout).not.toContain('sigold1')
    const path = join(t.models, 'loras', 'm.safetensors')
    expect(existsSync(`${path}.part`)).toBe(true)
    expect(statusOf(t.base)[path]).toMatchObject({ status: 'error', resumable: true })

    srv.setFaults(f.path, {
      requireQuery: { 'X-Amz-Signature': 'signew2' },
      expireAfterBytes: undefined,
      throttleBps: undefined
    })
    const second = await dl(signed(f.url, 'signew2'))
    expect(second.code, second.stdout + second.stderr).toBe(0)
    expect(sha(path)).toBe(f.sha256)
    expect(srv.bytesServed(f.path)).toBeLessThanOrEqual(size * 1.02)
    const stored = readFileSync(join(t.base, '.download_status.json'), 'utf8')
    expect(stored).not.toContain('sigold1')
    expect(stored).not.toContain('signew2')
  })

  it('podpull resume ID --url FRESH_URL continues a download whose link expired', async () => {
    const t = await target(kind)
    const size = 32 * MiB
    const f = srv.addFile(`/resume-${kind}/m.safetensors`, {
      size,
      seed: `resume-${kind}`,
      requireQuery: { 'X-Amz-Signature': 'sigold3' },
      expireAfterBytes: size / 4,
      throttleBps: 2 * MiB
    })
    const first = await runCli(
      ['download', signed(f.url, 'sigold3'), '--target', 't', '--folder', 'loras'],
      t.env
    )
    expect(first.code, first.stdout + first.stderr).toBe(1)
    const path = join(t.models, 'loras', 'm.safetensors')
    const id = String(statusOf(t.base)[path]!.id)

    srv.setFaults(f.path, {
      requireQuery: { 'X-Amz-Signature': 'signew4' },
      expireAfterBytes: undefined,
      throttleBps: undefined
    })
    const bad = await runCli(['resume', id, '--target', 't', '--url', 'ftp://x/y'], t.env)
    expect(bad.code).toBe(2)
    expect(existsSync(`${path}.part`)).toBe(true)
    const r = await runCli(
      ['resume', id, '--target', 't', '--url', signed(f.url, 'signew4')],
      t.env
    )
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(sha(path)).toBe(f.sha256)
    expect(srv.bytesServed(f.path)).toBeLessThanOrEqual(size * 1.02)
    expect(statusOf(t.base)[path]).toMatchObject({ status: 'completed', url: f.url })
  })
})
