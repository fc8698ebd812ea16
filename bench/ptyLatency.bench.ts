// `npm run bench`, PTY part: pod progress latency through RunPod-style
// PTY-only SSH (a real sshd with a ForceCommand that allows only interactive
// terminals, one channel per connection), measured on the app's own code path:
// PtyTransport → HelperClient.watch. Latency = a change of `downloaded` in the
// pod's status file → the client sees it. Budget: ≤ 1 s median. The result
// goes to bench/results-pty.md (its own file: the throughput table is rewritten
// by the other bench file).
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { HelperClient } from '../src/main/ssh/helperClient'
import { loadHelper } from '../src/main/ssh/helperUpload'
import { SshConnection } from '../src/main/ssh/sshConnection'
import { openTransport } from '../src/main/ssh/transport'
import { startSshd } from '../test/harness/sshd'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SAMPLES = 15

it('pod progress latency over the PTY transport', async () => {
  const sshd = await startSshd({ ptyOnly: true, maxSessions: 1 })
  const work = mkdtempSync(join(tmpdir(), 'podpull-ptybench-'))
  const known: Record<string, string> = {}
  const connection = (): SshConnection =>
    new SshConnection({
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      keyPath: sshd.keyPath,
      knownHosts: { get: (k) => known[k], set: (k, v) => void (known[k] = v) },
      acceptHostKey: () => sshd.hostKeyFingerprint,
      agent: ''
    })
  const conn = connection()
  try {
    const ws = join(work, 'workspace')
    mkdirSync(ws, { recursive: true })
    const file = join(ws, '.download_status.json')
    const entry = (n: number): Record<string, unknown> => ({
      [join(ws, 'ComfyUI/models/loras/x.safetensors')]: {
        status: 'downloading',
        downloaded: n,
        progress: 1,
        id: 'lat',
        timestamp: Date.now() / 1000,
        progress_time: Date.now() / 1000,
        owner: null
      }
    })
    writeFileSync(file, JSON.stringify(entry(0)))
    await conn.connect()
    const transport = await openTransport(conn, { spare: connection })
    expect(transport.kind).toBe('pty')
    const { remotePath } = await transport.ensureHelper(ws, loadHelper())
    const helper = new HelperClient(transport, remotePath)
    const seen = new Map<number, number>()
    let first: () => void = () => undefined
    const ready = new Promise<void>((r) => (first = r))
    const stream = await helper.watch({ workspace: ws }, (m) => {
      for (const e of Object.values(m.status ?? {}) as { downloaded: number }[])
        if (!seen.has(e.downloaded)) seen.set(e.downloaded, performance.now())
      first()
    })
    await ready
    const lat: number[] = []
    for (let n = 1; n <= SAMPLES; n++) {
      const t0 = performance.now()
      writeFileSync(file + '.tmp', JSON.stringify(entry(n * 1000)))
      renameSync(file + '.tmp', file)
      while (!seen.has(n * 1000) && performance.now() - t0 < 5000)
        await new Promise((r) => setTimeout(r, 5))
      lat.push((seen.get(n * 1000) ?? performance.now()) - t0)
    }
    stream.close()
    transport.close()
    lat.sort((x, y) => x - y)
    const median = lat[Math.floor(lat.length / 2)]! / 1000
    const line = `| pod progress latency over the PTY transport (median, budget ≤ 1 s) | ${median.toFixed(2)} s (max ${(lat.at(-1)! / 1000).toFixed(2)} s) |`
    const table = ['| measure | value |', '|---|---|', line].join('\n')
    writeFileSync(join(ROOT, 'bench/results-pty.md'), `${table}\n`)
    console.log(`\n${table}\n`)
  } finally {
    conn.close()
    await sshd.close()
    rmSync(work, { recursive: true, force: true })
  }
}, 300_000)
