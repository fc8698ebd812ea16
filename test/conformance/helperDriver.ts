// Runs the pod helper on this machine, exactly as the app does on a pod: the
// built zipapp (out/helper/podpull_helper.pyz, rebuilt from resources/helper by
// the vitest global setup), one command word in argv, one JSON request on
// stdin, one JSON line back. Used by the conformance table and the helper's
// own integration tests.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PYTHON_FLAGS } from '../../src/main/ssh/helperClient'
import { HELPER_PYZ, HELPER_SOURCE } from '../../scripts/build-helper.mjs'
import type { ConformanceDriver, DriverRequest, DriverResult } from './scenarios'
import { waitFor } from '../support/wait'
import { childWithErrorListeners } from '../support/listeners'

/** The .pyz the app uploads, as `npm run build` writes it. */
export const HELPER_PATH = HELPER_PYZ

/** HELPER_VERSION of the package, as the probe reports it. */
export const HELPER_VERSION = /^HELPER_VERSION = "([^"]+)"/m.exec(
  readFileSync(join(HELPER_SOURCE, 'podpull_helper', '__init__.py'), 'utf8')
)![1]!

/** Python lines that put the built helper first on sys.path, so a test script can
 *  `from podpull_helper import status` and drive the modules the pod runs. */
export const IMPORT_HELPER = `import sys\nsys.path.insert(0, ${JSON.stringify(HELPER_PYZ)})\n`

export type HelperAnswer = { ok: boolean; code?: string; error?: string } & Record<string, unknown>

/** One helper command; resolves with its parsed answer line. */
export function runHelper(
  command: string,
  request: unknown,
  env?: Record<string, string>
): Promise<HelperAnswer> {
  return new Promise((resolve, reject) => {
    const child = childWithErrorListeners(
      spawn('python3', [...PYTHON_FLAGS, HELPER_PATH, command], {
        stdio: ['pipe', 'pipe', 'pipe'],
        ...(env ? { env: { ...process.env, ...env } } : {})
      })
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    // The answer can come before the worker's copy of stdout closes: resolve on the line.
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.trim())
      if (!line) return reject(new Error(`helper ${command} exited ${code}: ${err}`))
      resolve(JSON.parse(line) as HelperAnswer)
    })
    child.stdin.end(JSON.stringify(request))
  })
}

export interface StatusEntry {
  status: string
  id: string
  error: string | null
  error_code?: string
  downloaded: number
  file_size: number | null
  url: string
  owner: { host: string; pid: number; engine: string } | null
  resumable: boolean
  attempts: number
  rev: number
  [k: string]: unknown
}

export function readStatusFile(workspace: string): Record<string, StatusEntry> {
  try {
    return JSON.parse(readFileSync(join(workspace, '.download_status.json'), 'utf8'))
  } catch {
    return {}
  }
}

export function entryById(workspace: string, id: string): [string, StatusEntry] | undefined {
  return Object.entries(readStatusFile(workspace)).find(([, e]) => e.id === id)
}

/** Polls the helper's `status` until the job reaches one of `states`. */
export async function waitForState(
  workspace: string,
  id: string,
  states: string[],
  timeoutMs = 30_000
): Promise<StatusEntry> {
  const entry = async (): Promise<StatusEntry | undefined> => {
    const answer = await runHelper('status', { workspace })
    const all = (answer.status ?? {}) as Record<string, StatusEntry>
    return Object.values(all).find((x) => x.id === id)
  }
  return (await waitFor(entry, `job ${id} in ${states.join('/')}`, {
    until: (e) => !!e && states.includes(e.status),
    ms: timeoutMs
  })) as StatusEntry
}

/** Fast retries and stall detection so fault scenarios finish in seconds. */
export const FAST = { retry_base_s: 0.05, stall_timeout_s: 3, max_attempts: 6 }

export function helperStartRequest(req: DriverRequest): Record<string, unknown> {
  return {
    workspace: req.workspace,
    models_dir: req.modelsDir,
    url: req.url,
    folder: req.folder,
    ...(req.filename !== undefined ? { filename: req.filename } : {}),
    ...(req.sha256 !== undefined ? { sha256: req.sha256 } : {}),
    connections: req.connections ?? 1,
    overwrite: req.overwrite ?? false,
    tokens: req.tokens ?? {},
    token_hosts: req.tokenHosts ?? {},
    ...FAST
  }
}

const ENDED = ['completed', 'error', 'paused', 'cancelled']

function resultOf(e: StatusEntry, path: string): DriverResult {
  return {
    state: e.status as DriverResult['state'],
    path,
    ...(e.error_code ? { code: e.error_code } : {}),
    ...(e.error ? { error: e.error } : {})
  }
}

export function localHelperDriver(): ConformanceDriver {
  return {
    name: 'helper (local python3)',
    async start(req) {
      const a = await runHelper('start', helperStartRequest(req))
      if (!a.ok) throw new Error(`start refused: ${a.error}`)
      return { id: a.id as string, path: a.path as string }
    },
    async pause(req, id) {
      const a = await runHelper('pause', { workspace: req.workspace, id })
      if (!a.ok) throw new Error(`pause refused: ${a.error}`)
      await waitForState(req.workspace, id, ['paused'])
    },
    async cancel(req, id) {
      const a = await runHelper('cancel', { workspace: req.workspace, id })
      if (!a.ok) throw new Error(`cancel refused: ${a.error}`)
      await waitFor(() => {
        const e = entryById(req.workspace, id)?.[1]
        return !e || e.status === 'cancelled'
      }, `job ${id} cancelled`)
    },
    async resume(req, id, url) {
      const path = entryById(req.workspace, id)?.[0] ?? ''
      const a = await runHelper('resume', {
        workspace: req.workspace,
        id,
        models_dir: req.modelsDir,
        ...(url !== undefined ? { url } : {}),
        tokens: req.tokens ?? {},
        token_hosts: req.tokenHosts ?? {},
        ...FAST
      })
      if (!a.ok) return { state: 'error', code: a.code, error: a.error, path }
      return resultOf(await waitForState(req.workspace, id, ENDED), path)
    },
    async run(req: DriverRequest): Promise<DriverResult> {
      const a = await runHelper('start', helperStartRequest(req))
      if (!a.ok) return { state: 'error', code: a.code, error: a.error }
      const outcome = a.outcome as DriverResult['outcome']
      const path = a.path as string
      if (outcome === 'already-present') return { state: 'completed', outcome, path }
      const e = await waitForState(req.workspace, a.id as string, [
        'completed',
        'error',
        'paused',
        'cancelled'
      ])
      return {
        state: e.status as DriverResult['state'],
        outcome,
        path,
        ...(e.error_code ? { code: e.error_code } : {}),
        ...(e.error ? { error: e.error } : {})
      }
    }
  }
}
