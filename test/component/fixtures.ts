// Records, targets and an in-memory bridge for component tests. The bridge is
// a test double of main (the unit boundary here is the renderer), with calls
// recorded and answers settable per method.
import type { ApiArgs, ApiMethod, ApiResults, PodPullBridge } from '../../src/shared/api'
import type { ErrorCode } from '../../src/shared/errorCodes'
import type {
  DownloadRecord,
  LinkPreview,
  Resolution,
  Snapshot,
  TargetInfo
} from '../../src/shared/types'
import { DEFAULT_SETTINGS } from '../../src/shared/types'

export function record(over: Partial<DownloadRecord> & { id: string }): DownloadRecord {
  return {
    targetId: 't1',
    path: `/c/models/loras/${over.id}.safetensors`,
    url: `https://example.com/${over.id}.safetensors`,
    folder: 'loras',
    filename: `${over.id}.safetensors`,
    state: 'downloading',
    progress: 10,
    fileSize: 1000,
    downloaded: 100,
    speed: 50,
    eta: 18,
    error: null,
    startTime: 1000,
    timestamp: 1001,
    sha256: null,
    source: 'direct',
    connections: 4,
    attempts: 1,
    rev: 1,
    ...over
  }
}

export function target(over: Partial<TargetInfo> & { id: string }): TargetInfo {
  return {
    name: over.id,
    config: { kind: 'local', comfyui: '/c/ComfyUI', workspace: '/c' },
    connection: 'online',
    lastSeen: Date.now(),
    freeBytes: 5e9,
    comfyui: '/c/ComfyUI',
    message: null,
    ...over
  }
}

export function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    targets: [target({ id: 't1', name: 'studio' })],
    downloads: [],
    settings: { ...DEFAULT_SETTINGS },
    tokens: { hf: false, civitai: false, editable: false },
    host: 'headless',
    ...over
  }
}

type Handler = (args: unknown) => unknown
/** A method's answer as a test writes it: typed by the contract, sync or async. */
export type Answer<M extends ApiMethod> = (
  args: ApiArgs<M>
) => ApiResults[M] | Promise<ApiResults[M]>
export interface FakeBridge {
  api: PodPullBridge
  calls: { m: ApiMethod; a: unknown }[]
  /** Answer a method: a function of the arguments (throw to fail). */
  answer<M extends ApiMethod>(m: M, h: Answer<M>): void
  emit(event: string, payload: unknown): void
}

export function fakeBridge(snap: Snapshot = snapshot()): FakeBridge {
  const calls: { m: ApiMethod; a: unknown }[] = []
  const handlers = new Map<string, Handler>([['getSnapshot', () => snap]])
  const listeners = new Map<string, Set<(p: unknown) => void>>()
  const api = new Proxy({} as PodPullBridge, {
    get: (_t, prop: string) => {
      const ev = /^on([A-Z])(.*)$/.exec(prop)
      if (ev) {
        const name = `${ev[1]!.toLowerCase()}${ev[2]}`
        return (cb: (p: unknown) => void) => {
          const set = listeners.get(name) ?? new Set()
          listeners.set(name, set)
          set.add(cb)
          return () => set.delete(cb)
        }
      }
      return async (a: unknown) => {
        calls.push({ m: prop as ApiMethod, a })
        const h = handlers.get(prop)
        if (!h) throw Object.assign(new Error(`${prop} not expected`), { code: 'internal' })
        return h(a)
      }
    }
  })
  return {
    api,
    calls,
    answer: (m, h) => void handlers.set(m, h as Handler),
    emit: (e, p) => listeners.get(e)?.forEach((cb) => cb(p))
  }
}

export const apiError = (code: ErrorCode, message: string): Error & { code: ErrorCode } =>
  Object.assign(new Error(message), { code })

/** A link preview around a resolution: the fields a hub adds, empty. */
export function previewOf(r: Resolution, more: Partial<LinkPreview> = {}): LinkPreview {
  return {
    resolution: r,
    name: r.title,
    version: null,
    type: null,
    baseModel: null,
    license: null,
    gated: false,
    access: 'public',
    accessNote: null,
    triggerWords: [],
    images: [],
    hiddenImages: 0,
    ...more
  }
}
