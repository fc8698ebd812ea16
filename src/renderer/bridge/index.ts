// Picks the bridge once at start-up: the preload's `window.podpull` in Electron,
// else the WebSocket to `podpull serve`. Nothing else knows which one it has.
import type { PodPullBridge } from '../../shared/api'
import { takeToken, apiSocketUrl } from './token'
import { createWsBridge } from './wsBridge'

export interface Connection {
  api: PodPullBridge
  /** Fires after the link to main came back (headless server restarted): re-seed. */
  onReconnect(cb: () => void): () => void
  /** Fires with false when the link drops and true when it is back. */
  onConnectionChange(cb: (connected: boolean) => void): () => void
}

const never = (): (() => void) => () => undefined

export function pickBridge(): Connection {
  if (window.podpull) {
    // IPC cannot drop while the window lives: no reconnect events.
    return { api: window.podpull, onReconnect: never, onConnectionChange: never }
  }
  const ws = createWsBridge({ url: apiSocketUrl(window.location, takeToken()) })
  return { api: ws.bridge, onReconnect: ws.onReconnect, onConnectionChange: ws.onConnectionChange }
}
