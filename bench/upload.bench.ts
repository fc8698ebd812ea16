// `npm run bench`, upload part: a file pushed to a pod over exec + SFTP by
// PodPull (PodTarget.push: local hash, SFTP writes in flight, sha256 on the pod,
// rename) against OpenSSH's `sftp` put of the same file to the same sshd
// (goal ≥ 0.8× its throughput), and the bytes sent in all when the connection
// is killed at 50 % and the push resumed (budget ≤ 1.02×). The result goes to
// bench/results-upload.md (its own file: the throughput table is rewritten by
// the other bench file). BENCH_UPLOAD_MIB sets the size (default 512).
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { startSshd } from '../test/harness/sshd'
import { writeLocalFile, holdsPrefix } from '../test/support/localFiles'
import { newStore, podTarget, killWorkers } from '../test/support/podTarget'
import { waitFor } from '../test/support/wait'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const MiB = 1 << 20
const SIZE = Number(process.env.BENCH_UPLOAD_MIB ?? 512) * MiB

function sftpPut(port: number, user: string, key: string, local: string, remote: string) {
  const batch = join(tmpdir(), `podpull-sftp-${process.pid}.batch`)
  writeFileSync(batch, `put ${local} ${remote}\n`)
  const t0 = performance.now()
  return new Promise<number>((resolve, reject) => {
    const child = execFile(
      'sftp',
      [
        ...['-q', '-b', batch, '-P', String(port), '-i', key],
        ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'],
        `${user}@127.0.0.1`
      ],
      (err, _out, stderr) =>
        err ? reject(new Error(stderr || String(err))) : resolve((performance.now() - t0) / 1000)
    )
    child.on('error', reject)
  })
}

it('upload to a pod over SFTP: PodPull push vs OpenSSH sftp put; bytes after a kill at 50 %', async () => {
  const sshd = await startSshd()
  const work = mkdtempSync(join(tmpdir(), 'podpull-uploadbench-'))
  try {
    const ws = join(work, 'workspace')
    const models = join(ws, 'ComfyUI', 'models')
    mkdirSync(join(models, 'loras'), { recursive: true })
    const f = writeLocalFile(work, 'bench.safetensors', SIZE, 'upload-bench')

    const sftpSeconds = await sftpPut(
      sshd.port,
      sshd.user,
      sshd.keyPath,
      f.path,
      join(work, 'sftp-copy.bin')
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
      const t0 = performance.now()
      const r = await t.push!({ file: f.path, folder: 'loras', filename: 'bench.safetensors' })
      // Timed to the job's end (commit answered), not to the next status snapshot.
      await t.pushJob(r.id)?.done
      const pushSeconds = (performance.now() - t0) / 1000

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
      const ratio = sftpSeconds / pushSeconds
      const lines = [
        '# Upload to a pod (exec + SFTP, loopback sshd)',
        '',
        `File: ${SIZE / MiB} MiB. Goal: PodPull ≥ 0.8× sftp's throughput; bytes sent after a kill at 50 % ≤ 1.02×.`,
        '',
        '| case | tool | seconds | MB/s |',
        '|---|---|---|---|',
        `| put ${SIZE / MiB} MiB | OpenSSH sftp | ${sftpSeconds.toFixed(2)} | ${mb(sftpSeconds)} |`,
        `| put ${SIZE / MiB} MiB | podpull push (hash, send, sha256 on the pod, install) | ${pushSeconds.toFixed(2)} | ${mb(pushSeconds)} |`,
        '',
        `PodPull / sftp throughput: **${ratio.toFixed(2)}×**`,
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
