// `npm run bench`, upload part: a file pushed to a pod over exec + SFTP by
// PodPull (PodTarget.push: local hash, SFTP writes in flight, sha256 on the pod,
// rename) against OpenSSH's `sftp` put of the same file to the same sshd
// (goal ≥ 0.8× its throughput), and the bytes sent in all when the connection
// is killed at 50 % and the push resumed (budget ≤ 1.02×). The result goes to
// bench/results-upload.md (its own file: the throughput table is rewritten by
// the other bench file). BENCH_UPLOAD_MIB sets the size (default 512).
// Beside the times it reports CPU seconds (user + system) on each side: this
// process (or the sftp client) and the sshd tree with everything it runs; on a
// busy machine they move far less than the times do.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { reapedChildrenCpuSeconds, treeCpuSeconds } from '../test/harness/procTree'
import { startSshd, type SshdHarness } from '../test/harness/sshd'
import { writeLocalFile, holdsPrefix } from '../test/support/localFiles'
import { newStore, podTarget, killWorkers } from '../test/support/podTarget'
import { waitFor } from '../test/support/wait'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const MiB = 1 << 20
const SIZE = Number(process.env.BENCH_UPLOAD_MIB ?? 512) * MiB

interface Run {
  seconds: number
  /** CPU seconds on this side (PodPull's process, or the sftp client). */
  here: number
  /** CPU seconds of the sshd side (sftp-server, or the helper processes). */
  pod: number
}

/** Times `fn` and counts the CPU both sides spent on it. */
async function measured(sshd: SshdHarness, fn: () => Promise<void>): Promise<Run> {
  const own = process.cpuUsage()
  const children = reapedChildrenCpuSeconds()
  const pod = treeCpuSeconds(sshd.pid!)
  const t0 = performance.now()
  await fn()
  const seconds = (performance.now() - t0) / 1000
  const used = process.cpuUsage(own)
  return {
    seconds,
    here: (used.user + used.system) / 1e6 + reapedChildrenCpuSeconds() - children,
    pod: treeCpuSeconds(sshd.pid!) - pod
  }
}

function sftpPut(port: number, user: string, key: string, local: string, remote: string) {
  const batch = join(tmpdir(), `podpull-sftp-${process.pid}.batch`)
  writeFileSync(batch, `put ${local} ${remote}\n`)
  return new Promise<void>((resolve, reject) => {
    const child = execFile(
      'sftp',
      [
        ...['-q', '-b', batch, '-P', String(port), '-i', key],
        ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'],
        `${user}@127.0.0.1`
      ],
      (err, _out, stderr) => (err ? reject(new Error(stderr || String(err))) : resolve())
    )
    child.on('error', reject)
  })
}

it('upload to a pod over SFTP: PodPull push vs OpenSSH sftp put; bytes after a kill at 50 %', async () => {
  // A pod's shell: python3 straight from the PATH. This machine's login shell
  // (pyenv's shims, run by ~/.bashrc for every exec channel) cost ~0.4 CPU s per
  // helper call, which no pod pays; sftp's internal-sftp never runs the shell.
  const sshd = await startSshd({ sessionEnv: { PATH: '/usr/local/bin:/usr/bin:/bin' } })
  const work = mkdtempSync(join(tmpdir(), 'podpull-uploadbench-'))
  try {
    const ws = join(work, 'workspace')
    const models = join(ws, 'ComfyUI', 'models')
    mkdirSync(join(models, 'loras'), { recursive: true })
    const f = writeLocalFile(work, 'bench.safetensors', SIZE, 'upload-bench')

    const sftpRun = await measured(sshd, () =>
      sftpPut(sshd.port, sshd.user, sshd.keyPath, f.path, join(work, 'sftp-copy.bin'))
    )
    rmSync(join(work, 'sftp-copy.bin'), { force: true })

    const store = newStore()
    store.knownHosts[`127.0.0.1:${sshd.port}`] = sshd.hostKeyFingerprint
    let sent = 0
    let armed = false
    let release: () => void = () => undefined
    let gate: Promise<void> = Promise.resolve()
    const t = podTarget(sshd, store, {
      ws,
      settings: { autoResume: false },
      push: {
        ...(process.env.BENCH_UPLOAD_CHUNK_KIB
          ? { chunk: Number(process.env.BENCH_UPLOAD_CHUNK_KIB) * 1024 }
          : {}),
        ...(process.env.BENCH_UPLOAD_LANES
          ? { concurrency: Number(process.env.BENCH_UPLOAD_LANES) }
          : {}),
        onSent: (n) => (sent += n),
        beforeWrite: (at) => (armed && at >= SIZE / 2 ? gate : undefined)
      }
    })
    try {
      await t.open()
      const pushRun = await measured(sshd, async () => {
        const r = await t.push!({ file: f.path, folder: 'loras', filename: 'bench.safetensors' })
        // Timed to the job's end (installed on the pod), not to the next status snapshot.
        await t.pushJob(r.id)?.done
      })

      // Kill at 50 %: the writes past half wait at a gate; the link is cut once the pod holds half.
      rmSync(join(models, 'loras', 'bench.safetensors'))
      sent = 0
      armed = true
      gate = new Promise<void>((res) => (release = res))
      const k = await t.push!({ file: f.path, folder: 'loras', filename: 'bench.safetensors' })
      const dest = join(models, 'loras', 'bench.safetensors')
      await waitFor(() => holdsPrefix(`${dest}.part`, f.path, SIZE / 2), 'half on the pod', 600_000)
      await sshd.killConnections()
      await waitFor(
        async () =>
          (
            (await t.rawStatus().catch((): Record<string, unknown> => ({})))[dest] as
              { status?: string } | undefined
          )?.status,
        'paused',
        { until: (s) => s === 'paused', ms: 120_000 }
      )
      armed = false
      release()
      await t.resume(k.id)
      await waitFor(
        () => t.downloads().find((x) => x.id === k.id)?.state === 'completed',
        'resumed',
        600_000
      )

      const mb = (s: number): string => (SIZE / s / 1e6).toFixed(1)
      const ratio = sftpRun.seconds / pushRun.seconds
      const row = (tool: string, r: Run): string =>
        `| put ${SIZE / MiB} MiB | ${tool} | ${r.seconds.toFixed(2)} | ${mb(r.seconds)} | ${r.here.toFixed(2)} | ${r.pod.toFixed(2)} |`
      const lines = [
        '# Upload to a pod (exec + SFTP, loopback sshd)',
        '',
        `File: ${SIZE / MiB} MiB. Goal: PodPull ≥ 0.8× sftp's throughput; bytes sent after a kill at 50 % ≤ 1.02×.`,
        '',
        '| case | tool | seconds | MB/s | CPU s, this side | CPU s, sshd side |',
        '|---|---|---|---|---|---|',
        row('OpenSSH sftp', sftpRun),
        row('podpull push (hash, send, sha256 on the pod, install)', pushRun),
        '',
        `PodPull / sftp throughput: **${ratio.toFixed(2)}×**`,
        `(load average at the end: ${loadavg()[0]!.toFixed(1)}; the CPU seconds are less disturbed by load than the times)`,
        '',
        `Bytes sent, killed at 50 % and resumed: **${(sent / SIZE).toFixed(4)}×** the file`,
        ''
      ]
      writeFileSync(join(ROOT, 'bench', 'results-upload.md'), lines.join('\n'))
      expect(sent / SIZE).toBeLessThanOrEqual(1.02)
    } finally {
      await t.close()
      killWorkers(ws)
    }
  } finally {
    await sshd.close()
    rmSync(work, { recursive: true, force: true })
  }
}, 1_800_000)
