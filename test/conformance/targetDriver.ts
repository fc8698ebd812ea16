// Drives the conformance table through a real Target (LocalTarget with the
// TypeScript engine, or PodTarget with the helper over SSH): the same path a
// user's click takes, status file included.
import { dirname } from 'node:path'
import type { Target } from '../../src/main/targets/target'
import type { DownloadRecord } from '../../src/shared/types'
import type { ConformanceDriver, DriverRequest, DriverResult } from './scenarios'

const TERMINAL = new Set(['completed', 'error', 'paused', 'cancelled'])

/** The env-style host lists sources/tokens.ts reads, from a request's tokenHosts. */
export function tokenHostEnv(req: DriverRequest): NodeJS.ProcessEnv {
  return {
    PODPULL_HF_HOSTS: (req.tokenHosts?.hf ?? []).join(','),
    PODPULL_CIVITAI_HOSTS: (req.tokenHosts?.civitai ?? []).join(',')
  }
}

/** The ComfyUI folder whose models/ is the request's modelsDir. */
export const comfyOf = (req: DriverRequest): string => dirname(req.modelsDir)

function waitForEnd(target: Target, id: string, timeoutMs: number): Promise<DownloadRecord> {
  return new Promise((resolve, reject) => {
    const find = (): DownloadRecord | undefined =>
      target.downloads().find((r) => r.id === id && TERMINAL.has(r.state))
    const done = (r: DownloadRecord): void => {
      clearInterval(poll)
      clearTimeout(timer)
      target.off('downloads', onEvent)
      resolve(r)
    }
    const onEvent = (): void => {
      const r = find()
      if (r) done(r)
    }
    // Events are the fast path; a poll covers records that change without one.
    const poll = setInterval(onEvent, 200)
    const timer = setTimeout(() => {
      clearInterval(poll)
      target.off('downloads', onEvent)
      reject(new Error(`download ${id} did not end within ${timeoutMs} ms`))
    }, timeoutMs)
    target.on('downloads', onEvent)
    onEvent()
  })
}

export function targetDriver(
  name: string,
  makeTarget: (req: DriverRequest) => Promise<Target>,
  timeoutMs = 45_000
): ConformanceDriver {
  /** Targets of jobs started and not yet paused, by workspace. */
  const live = new Map<string, Target>()
  const ended = (r: DownloadRecord, path: string): DriverResult => ({
    state: r.state as DriverResult['state'],
    path,
    ...(r.error ? { error: r.error, code: errorCodeOf(r) } : {})
  })
  return {
    name,
    async start(req) {
      const target = await makeTarget(req)
      live.set(req.workspace, target)
      const s = await target.start({
        url: req.url,
        folder: req.folder,
        ...(req.filename ? { filename: req.filename } : {})
      })
      return { id: s.id, path: s.path }
    },
    async pause(req, id) {
      const target = live.get(req.workspace)!
      live.delete(req.workspace)
      try {
        await target.pause(id)
        await waitForEnd(target, id, timeoutMs)
      } finally {
        await target.close() // a resume then starts from what is on disk
      }
    },
    async cancel(req, id) {
      const target = live.get(req.workspace)!
      live.delete(req.workspace)
      try {
        await target.cancel(id)
        await waitForEnd(target, id, timeoutMs).catch(() => undefined) // a removed record ends too
      } finally {
        await target.close()
      }
    },
    async resume(req, id, url) {
      const target = await makeTarget(req)
      try {
        const path = target.downloads().find((r) => r.id === id)?.path ?? ''
        try {
          await target.resume(id, url)
        } catch (err) {
          const e = err as { code?: string; message: string }
          return { state: 'error', code: e.code, error: e.message, path }
        }
        return ended(await waitForEnd(target, id, timeoutMs), path)
      } finally {
        await target.close()
      }
    },
    async run(req) {
      const target = await makeTarget(req)
      try {
        let started
        try {
          started = await target.start({
            url: req.url,
            folder: req.folder,
            ...(req.filename ? { filename: req.filename } : {}),
            ...(req.sha256 ? { sha256: req.sha256 } : {}),
            ...(req.connections ? { connections: req.connections } : {}),
            ...(req.overwrite ? { overwrite: true } : {})
          })
        } catch (err) {
          const e = err as { code?: string; message: string }
          return { state: 'error', code: e.code, error: e.message } satisfies DriverResult
        }
        if (started.outcome === 'already-present') {
          return { state: 'completed', outcome: started.outcome, path: started.path }
        }
        const r = await waitForEnd(target, started.id, timeoutMs)
        return {
          state: r.state as DriverResult['state'],
          outcome: started.outcome,
          path: started.path,
          ...(r.error ? { error: r.error, code: errorCodeOf(r) } : {})
        }
      } finally {
        await target.close()
      }
    }
  }
}

/** The machine-readable reason the target recorded with the sentence. */
function errorCodeOf(r: DownloadRecord): string | undefined {
  return r.errorCode ?? undefined
}
