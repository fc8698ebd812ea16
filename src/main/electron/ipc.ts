// Electron adapter of the API: one ipcMain.handle per contract channel. The
// sender must be our own page, every argument is validated (dispatch.ts), and
// errors cross as {code, message} so the renderer can show them as they are.
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron'
import {
  API_EVENTS,
  API_METHODS,
  ipcChannel,
  type ApiEvents,
  type ApiHandlers
} from '../../shared/api'
import { invokeMethod, toApiError } from '../api/dispatch'
import type { EventSource } from '../api/eventSource'

export function registerIpcHandlers(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  handlers: ApiHandlers,
  isTrustedSender: (e: IpcMainInvokeEvent) => boolean
): () => void {
  for (const method of API_METHODS) {
    ipcMain.handle(ipcChannel(method), async (e, args: unknown) => {
      if (!isTrustedSender(e))
        throw new Error('Refused: the request did not come from the PodPull window.')
      try {
        return { ok: true, v: await invokeMethod(handlers, method, args) }
      } catch (err) {
        return { ok: false, e: toApiError(err) }
      }
    })
  }
  return () => API_METHODS.forEach((m) => ipcMain.removeHandler(ipcChannel(m)))
}

/** Forwards every core event to a window. Returns an unsubscribe. */
export function forwardEvents(events: EventSource, target: () => WebContents | null): () => void {
  const offs = API_EVENTS.map((name) => {
    const cb = (payload: ApiEvents[typeof name]): void => {
      const wc = target()
      if (wc && !wc.isDestroyed()) wc.send(ipcChannel(name), payload)
    }
    events.on(name, cb)
    return () => events.off(name, cb)
  })
  return () => offs.forEach((off) => off())
}
