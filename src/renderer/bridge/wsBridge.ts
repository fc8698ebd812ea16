// A PodPullBridge over the headless server's WebSocket (`podpull serve`).
// Calls are {t:'call', id, m, a}; answers {t:'res', id, ok, v|e}; events
// {t:'ev', n, p}. The socket reconnects with backoff because the server may be
// restarted under an open page; whoever cares (the stores) re-seeds on onReconnect.
// Types only: importing the contract's runtime tables would pull zod into the
// renderer bundle (≈60 KB) just for two name lists; a Proxy needs none.
import type { ApiErrorShape, ApiEventName, PodPullBridge } from '../../shared/api'
import type { ErrorCode } from '../../shared/errorCodes'

/** The part of the browser WebSocket the bridge uses (a fake in tests). */
export interface SocketLike {
  readonly readyState: number
  send(data: string): void
  close(): void
  onopen: ((ev: unknown) => void) | null
  onclose: ((ev: unknown) => void) | null
  onerror: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
}

export interface WsBridgeOptions {
  url: string
  /** Creates a socket; defaults to `new WebSocket(url)`. */
  connect?: (url: string) => SocketLike
  /** Reconnect delays in ms, the last one repeats. */
  backoffMs?: number[]
}

export interface WsBridge {
  bridge: PodPullBridge
  /** Called after every successful reconnect (not the first connect). */
  onReconnect(cb: () => void): () => void
  /** Called with true when connected, false when the link drops. */
  onConnectionChange(cb: (connected: boolean) => void): () => void
  close(): void
}

const OPEN = 1
const DEFAULT_BACKOFF = [250, 500, 1000, 2000, 4000]

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void }

/** An Error that keeps main's `code` so the UI can react without parsing text. */
export function apiError(e: ApiErrorShape): Error & { code: ErrorCode } {
  return Object.assign(new Error(e.message), { code: e.code })
}

export function createWsBridge(opts: WsBridgeOptions): WsBridge {
  const connect = opts.connect ?? ((url: string) => new WebSocket(url) as unknown as SocketLike)
  const backoff = opts.backoffMs ?? DEFAULT_BACKOFF
  const pending = new Map<number, Pending>()
  // Calls made while the link is down wait here and go out on the next open.
  const outbox: { id: number; text: string }[] = []
  const listeners = new Map<ApiEventName, Set<(p: unknown) => void>>()
  const reconnectCbs = new Set<() => void>()
  const connCbs = new Set<(c: boolean) => void>()
  let nextId = 1
  let attempt = 0
  let everOpened = false
  let closed = false
  let socket: SocketLike | null = null
  let timer: ReturnType<typeof setTimeout> | null = null

  const onMessage = (data: unknown): void => {
    let msg: { t?: string; id?: number; ok?: boolean; v?: unknown; e?: ApiErrorShape }
    let ev: { n?: string; p?: unknown }
    try {
      msg = JSON.parse(String(data)) as typeof msg
      ev = msg as typeof ev
    } catch {
      return
    }
    if (msg.t === 'res' && typeof msg.id === 'number') {
      const p = pending.get(msg.id)
      if (!p) return
      pending.delete(msg.id)
      if (msg.ok) p.resolve(msg.v ?? undefined)
      else p.reject(apiError(msg.e ?? { code: 'internal', message: 'Unknown error.' }))
    } else if (msg.t === 'ev' && typeof ev.n === 'string') {
      listeners.get(ev.n as ApiEventName)?.forEach((cb) => cb(ev.p))
    }
  }

  const open = (): void => {
    if (closed) return
    const s = connect(opts.url)
    socket = s
    s.onopen = () => {
      attempt = 0
      const wasReconnect = everOpened
      everOpened = true
      while (outbox.length && s.readyState === OPEN) s.send(outbox.shift()!.text)
      connCbs.forEach((cb) => cb(true))
      if (wasReconnect) reconnectCbs.forEach((cb) => cb())
    }
    s.onmessage = (e) => onMessage(e.data)
    s.onerror = () => undefined // onclose follows; that is where we act
    s.onclose = () => {
      if (socket !== s) return
      socket = null
      // Answers to in-flight calls will never come: fail them now.
      for (const [id, p] of pending) {
        if (!outbox.some((m) => m.id === id)) {
          pending.delete(id)
          p.reject(apiError({ code: 'disconnected', message: 'Lost the connection to PodPull.' }))
        }
      }
      connCbs.forEach((cb) => cb(false))
      if (closed) return
      const delay = backoff[Math.min(attempt, backoff.length - 1)] ?? 1000
      attempt++
      timer = setTimeout(open, delay)
    }
  }

  const call = (m: string, a: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (closed) return reject(apiError({ code: 'closed', message: 'The bridge is closed.' }))
      const id = nextId++
      pending.set(id, { resolve, reject })
      const text = JSON.stringify({ t: 'call', id, m, a: a ?? {} })
      if (socket && socket.readyState === OPEN) socket.send(text)
      else outbox.push({ id, text })
    })

  const subscribe = (e: string, cb: (p: unknown) => void): (() => void) => {
    const name = e as ApiEventName
    let set = listeners.get(name)
    if (!set) listeners.set(name, (set = new Set()))
    set.add(cb)
    return () => set.delete(cb)
  }
  // onDownloadsChanged → subscription to 'downloadsChanged'; any other name is
  // a method call. Main validates method names and arguments, as for IPC.
  const bridge = new Proxy({} as PodPullBridge, {
    get: (_t, prop) => {
      // Not API names: promise sniffing (then) and framework flags (__v_skip, …).
      if (typeof prop !== 'string' || prop === 'then' || prop.startsWith('_')) return undefined
      const ev = /^on([A-Z])(.*)$/.exec(prop)
      if (ev) return (cb: (p: unknown) => void) => subscribe(`${ev[1]!.toLowerCase()}${ev[2]}`, cb)
      return (a: unknown) => call(prop, a)
    }
  })
  open()

  const hook =
    <T>(set: Set<T>) =>
    (cb: T): (() => void) => {
      set.add(cb)
      return () => set.delete(cb)
    }
  return {
    bridge,
    onReconnect: hook(reconnectCbs),
    onConnectionChange: hook(connCbs),
    close: () => {
      closed = true
      if (timer) clearTimeout(timer)
      socket?.close()
    }
  }
}
