// `podpull diagnostics` as a user runs it: one archive with versions, targets,
// the app log, and for each pod its status file and helper log tail — and not
// one of the tokens or signed-URL values the session used, although the
// downloads, failures and log lines that carried them are all in it. A pod
// whose sshd is down is noted in the archive instead of stopping it.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { extract } from 'tar'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { assertBuilt, freshComfy, runCli } from '../support/cli'

const HF_TOKEN = 'hf_DiagTestTokenHf0123456789'
const CIVITAI_TOKEN = 'civitai-diag-secret-7f3e9a1b'
const SIGNATURE = 'SignedValue0diag5e1a'
const URL_TOKEN = 'UrlTokenDiag42'
const FAILED_SIGNATURE = 'FailedSignature9c0d'
const RUNPOD_KEY = 'rpa_DiagRunpodKey0a1b2c3d'
const SECRETS = [HF_TOKEN, CIVITAI_TOKEN, SIGNATURE, URL_TOKEN, FAILED_SIGNATURE, RUNPOD_KEY]

let srv: ModelServer
let sshd: SshdHarness
let downSshd: SshdHarness

beforeAll(async () => {
  assertBuilt()
  ;[srv, sshd, downSshd] = await Promise.all([startModelServer(), startSshd(), startSshd()])
})
afterAll(async () => {
  await Promise.all([srv?.close(), sshd?.close(), downSshd?.close()])
})

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? filesUnder(p) : [p]
  })
}

function podArgs(name: string, s: SshdHarness, ws: string): string[] {
  mkdirSync(join(ws, 'ComfyUI', 'models', 'loras'), { recursive: true })
  return [
    'targets',
    'add-ssh',
    name,
    '--host',
    '127.0.0.1',
    '--port',
    String(s.port),
    '--user',
    s.user,
    '--key',
    s.keyPath,
    '--workspace',
    ws,
    '--comfyui',
    join(ws, 'ComfyUI'),
    '--accept-new-host-key'
  ]
}

describe('podpull diagnostics', () => {
  it('writes one archive with logs, targets and pod state, and no secret in it', async () => {
    const c = freshComfy()
    const env = {
      PODPULL_HOME: c.home,
      HF_TOKEN,
      CIVITAI_API_TOKEN: CIVITAI_TOKEN,
      RUNPOD_API_KEY: RUNPOD_KEY,
      // A RunPod API that refuses: the failed call is logged, the key must not be.
      PODPULL_RUNPOD_ENDPOINT: `${srv.url}/runpod/v1`,
      PODPULL_RUNPOD_GRAPHQL: `${srv.url}/runpod/graphql`
    }
    const ok = async (args: string[]): Promise<void> => {
      const r = await runCli(args, env)
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
    }
    await ok(['targets', 'add-local', 'studio', '--comfyui', c.comfy])
    const podWs = join(mkdtempSync(join(tmpdir(), 'podpull-diag-pod-')), 'workspace')
    await ok(podArgs('pod1', sshd, podWs))
    const downWs = join(mkdtempSync(join(tmpdir(), 'podpull-diag-down-')), 'workspace')
    await ok(podArgs('pod2', downSshd, downWs))

    // A signed link that works, locally and on the pod …
    const good = srv.addFile('/diag/good.safetensors', { size: 256 << 10, seed: 'g' })
    const signed = `${good.url}?X-Amz-Signature=${SIGNATURE}&token=${URL_TOKEN}`
    await ok(['download', signed, '--target', 'studio', '--folder', 'loras'])
    await ok(['download', signed, '--target', 'pod1', '--folder', 'loras'])
    // … and one that fails (401): its error, URL and log line all get recorded.
    const gated = srv.addFile('/diag/gated.safetensors', { size: 1024, requireToken: 'other' })
    const failed = await runCli(
      [
        'download',
        `${gated.url}?X-Amz-Signature=${FAILED_SIGNATURE}`,
        '--target',
        'studio',
        '--folder',
        'loras'
      ],
      env
    )
    expect(failed.code).toBe(1)
    expect((await runCli(['runpod', 'pods'], env)).code).not.toBe(0)
    await downSshd.stop()

    const out = join(c.base, 'report.tar.gz')
    const r = await runCli(['diagnostics', '--output', out], env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim()).toBe(out)
    const dir = mkdtempSync(join(tmpdir(), 'podpull-diag-x-'))
    await extract({ file: out, cwd: dir })
    const files = filesUnder(dir)
    const rel = (f: string): string => f.slice(dir.length + 1).replace(/^[^/]+\//, '')
    const text = (name: string): string =>
      readFileSync(files.find((f) => rel(f) === name) ?? join(dir, 'missing', name), 'utf8')

    // What a bug report needs is there …
    expect(files.map(rel).sort()).toEqual(
      expect.arrayContaining([
        'summary.json',
        'downloads.json',
        'logs/podpull.log',
        'targets/studio/status.json',
        'targets/pod1/status.json',
        'targets/pod1/helper-logs.txt',
        'targets/pod2/POD-UNREACHABLE.txt'
      ])
    )
    const summary = JSON.parse(text('summary.json')) as Record<string, unknown>
    expect(summary).toMatchObject({ helper: expect.stringMatching(/^\d+\.\d+/) })
    expect(JSON.stringify(summary.targets)).toContain('pod2')
    expect(text('targets/pod1/status.json')).toContain('good.safetensors')
    expect(text('targets/pod1/helper-logs.txt')).not.toBe('No helper logs on the pod.\n')
    expect(text('targets/pod2/POD-UNREACHABLE.txt')).toContain('pod2')
    const log = text('logs/podpull.log')
    expect(log).toContain('/diag/gated.safetensors')
    expect(log).toMatch(/"code":"auth"/)
    // … and no secret is, in any file.
    for (const f of files) {
      const body = readFileSync(f, 'utf8')
      for (const s of SECRETS) expect(body.includes(s), `${s} found in ${rel(f)}`).toBe(false)
    }
    // The log file on disk was clean before the archive redacted it again.
    const onDisk = readFileSync(join(c.home, 'logs', 'podpull.log'), 'utf8')
    for (const s of SECRETS) expect(onDisk.includes(s), `${s} in the app log`).toBe(false)
  })

  it('--help describes the command', async () => {
    const r = await runCli(['diagnostics', '--help'], {})
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('--output')
    expect(r.stdout).toMatch(/bug report/)
  })
})
