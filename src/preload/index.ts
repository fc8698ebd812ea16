// The renderer's only door to main: exactly the API contract, one function per
// method and one on<Event>(cb) per event (returning an unsubscribe). No generic
// invoke/send is exposed.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import {
  API_EVENTS,
  API_METHODS,
  ipcChannel,
  subscriptionName,
  type PodPullBridge
} from '../shared/api'

type Envelope = { ok: true; v: unknown } | { ok: false; e: { code: string; message: string } }

function buildBridge(): PodPullBridge {
  const bridge: Record<string, unknown> = {}
  for (const method of API_METHODS) {
    bridge[method] = async (args: unknown) => {
      const res = (await ipcRenderer.invoke(ipcChannel(method), args ?? {})) as Envelope
      if (res.ok) return res.v
      // Errors cross as data so their code survives; rebuild a real Error here.
      throw Object.assign(new Error(res.e.message), { code: res.e.code })
    }
  }
  for (const event of API_EVENTS) {
    bridge[subscriptionName(event)] = (cb: (payload: unknown) => void) => {
      const listener = (_e: IpcRendererEvent, payload: unknown): void => cb(payload)
      ipcRenderer.on(ipcChannel(event), listener)
      return () => ipcRenderer.removeListener(ipcChannel(event), listener)
    }
  }
  return Object.freeze(bridge) as PodPullBridge
}

contextBridge.exposeInMainWorld('podpull', buildBridge())
