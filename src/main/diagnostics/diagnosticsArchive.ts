// `podpull diagnostics` and Settings → "Save diagnostics": one .tar.gz a user
// can attach to a bug report. It holds the app and helper versions, the OS,
// the targets (their definitions hold no secret: passphrases and tokens live
// elsewhere), the recent app logs and, for each pod, its status file and the
// helper's log tail — or a note saying why the pod could not be asked. Every
// file goes through redactText() before it is written, so no token or signed
// URL's signature ends up in the archive.
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { arch, cpus, platform, release, totalmem, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { create as createTar } from 'tar'
import type { PodPullCore } from '../core/podpullCore'
import type { Target } from '../targets/target'
import { loadHelper } from '../ssh/helperUpload'
import { logDir } from './appLog'
import { redactText } from './redact'

export interface DiagnosticsOptions {
  core: PodPullCore
  home: string
  /** Where to write the archive; default <home>/diagnostics/podpull-diagnostics-<time>.tar.gz. */
  output?: string
  /** How long to wait for each pod (ms). */
  podTimeoutMs?: number
  secrets?: readonly string[]
}

export async function writeDiagnostics(opts: DiagnosticsOptions): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const name = `podpull-diagnostics-${stamp}`
  const output = opts.output ?? join(opts.home, 'diagnostics', `${name}.tar.gz`)
  const work = await mkdtemp(join(tmpdir(), 'podpull-diag-'))
  const root = join(work, name)
  const put = async (rel: string, text: string): Promise<void> => {
    const path = join(root, rel)
    await mkdir(join(path, '..'), { recursive: true })
    await writeFile(path, redactText(text, opts.secrets ?? []), { mode: 0o600 })
  }
  try {
    await put('summary.json', json(summary(opts.core)))
    await put('downloads.json', json(opts.core.downloads()))
    await copyLogs(opts.home, put)
    for (const info of opts.core.targetInfos()) {
      const dir = `targets/${safeName(info.name)}`
      const open = async (): Promise<void> => void (await opts.core.openTarget(info.id))
      await collectTarget(opts.core.target(info.id), dir, open, opts.podTimeoutMs ?? 20_000, put)
    }
    await mkdir(join(output, '..'), { recursive: true })
    await createTar({ gzip: true, cwd: work, file: output, portable: true }, [name])
    return output
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

function summary(core: PodPullCore): Record<string, unknown> {
  let helper: string | null = null
  try {
    helper = loadHelper().version
  } catch (err) {
    helper = `missing: ${(err as Error).message}`
  }
  return {
    created: new Date().toISOString(),
    app: process.env.npm_package_version ?? '0.1.0',
    helper,
    host: core.host,
    versions: { node: process.versions.node, electron: process.versions.electron ?? null },
    os: {
      platform: platform(),
      release: release(),
      arch: arch(),
      cpus: cpus().length,
      totalmem: totalmem()
    },
    settings: core.settings(),
    tokens: core.tokenStatus(),
    targets: core.targetInfos()
  }
}

async function copyLogs(
  home: string,
  put: (rel: string, text: string) => Promise<void>
): Promise<void> {
  const dir = logDir(home)
  const names = await readdir(dir).catch(() => [] as string[])
  if (!names.length) return put('logs/NONE.txt', `No log files in ${dir}.\n`)
  for (const n of names) {
    const text = await readFile(join(dir, n)).catch(() => null)
    // Rotated files may be gzipped by a later version: keep only text.
    if (text && !n.endsWith('.gz')) await put(`logs/${basename(n)}`, text.toString('utf8'))
  }
}

async function collectTarget(
  t: Target,
  dir: string,
  open: () => Promise<void>,
  timeoutMs: number,
  put: (rel: string, text: string) => Promise<void>
): Promise<void> {
  const info = t.info()
  if (info.config.kind === 'local') {
    const status = t.rawStatus
      ? await t.rawStatus().catch((e: Error) => ({ error: e.message }))
      : {}
    return put(`${dir}/status.json`, json(status))
  }
  // A pod: ask its helper, but never let an unreachable pod stop the archive.
  try {
    const ask = async (): Promise<[Record<string, unknown>, { id: string; tail: string }[]]> => {
      if (info.connection !== 'online') await open()
      return Promise.all([t.rawStatus?.() ?? {}, t.helperLogTail?.() ?? []])
    }
    const [status, logs] = await withTimeout(
      ask(),
      timeoutMs,
      `no answer within ${Math.round(timeoutMs / 1000)} s`
    )
    await put(`${dir}/status.json`, json(status))
    const tails = logs.map((l) => `==> ${l.id}.log <==\n${l.tail}`).join('\n')
    await put(`${dir}/helper-logs.txt`, tails || 'No helper logs on the pod.\n')
  } catch (err) {
    await put(
      `${dir}/POD-UNREACHABLE.txt`,
      `The pod "${info.name}" could not be asked for its status file and helper logs: ` +
        `${(err as Error).message}\nLast known state: ${info.connection}` +
        (info.message ? ` (${info.message})` : '') +
        '\n'
    )
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(why)), ms)
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`
const safeName = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'target'
