// What goes into the app log without touching the targets: it listens to the
// core's event stream and writes the transitions a bug report needs — a pod's
// connection going up and down (a reconnect loop shows as a run of them), a
// target's message (e.g. "Could not resume a download: …" after a failed
// auto-resume), a download failing or finishing — and every API call that
// failed, with its code.
import type { ApiHandlers } from '../../shared/api'
import type { DownloadRecord, TargetInfo } from '../../shared/types'
import type { EventSource } from '../api/eventSource'
import type { AppLog } from './appLog'

export function logActivity(
  events: EventSource,
  log: AppLog,
  nameOf: (targetId: string) => string = (id) => id
): () => void {
  const lastTarget = new Map<string, string>()
  const lastState = new Map<string, DownloadRecord['state']>()

  const onTargets = (infos: TargetInfo[]): void => {
    for (const t of infos) {
      const key = `${t.connection}|${t.message ?? ''}`
      if (lastTarget.get(t.id) === key) continue
      lastTarget.set(t.id, key)
      const entry = { target: t.name, kind: t.config.kind, connection: t.connection }
      if (t.connection === 'error' || t.message)
        log.warn({ ...entry, message: t.message }, 'target')
      else log.info(entry, 'target')
    }
  }
  const onDownloads = (ev: { targetId: string; upserts: DownloadRecord[] }): void => {
    for (const r of ev.upserts) {
      const key = `${ev.targetId}/${r.id}`
      if (lastState.get(key) === r.state) continue
      lastState.set(key, r.state)
      const entry = { target: nameOf(ev.targetId), id: r.id, file: r.path }
      if (r.state === 'error')
        log.error({ ...entry, url: r.url, code: r.errorCode, error: r.error }, 'download failed')
      else if (r.state === 'completed' || r.state === 'cancelled' || r.state === 'paused')
        log.info({ ...entry, state: r.state }, 'download')
    }
  }
  events.on('targetsChanged', onTargets)
  events.on('downloadsChanged', onDownloads)
  return () => {
    events.off('targetsChanged', onTargets)
    events.off('downloadsChanged', onDownloads)
  }
}

/** The same handler table, logging each call that fails: code, message and the URL it
 *  was about (the log's sink strips its secrets); no other argument. */
export function loggedHandlers(handlers: ApiHandlers, log: AppLog): ApiHandlers {
  const out = {} as Record<string, (a: unknown) => Promise<unknown>>
  for (const [method, fn] of Object.entries(handlers) as [
    string,
    (a: unknown) => Promise<unknown>
  ][]) {
    out[method] = async (args) => {
      try {
        return await fn(args)
      } catch (err) {
        const code = (err as { code?: unknown }).code
        const url = (args as { url?: unknown } | undefined)?.url
        const about = typeof url === 'string' ? { url } : {}
        log.warn({ method, ...about, code, error: (err as Error).message }, 'call failed')
        throw err
      }
    }
  }
  return out as ApiHandlers
}
