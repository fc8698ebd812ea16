// Wires a bridge to the stores: subscribe first, then ask for a snapshot, and
// replay what arrived meanwhile (rev checks keep it right). After a reconnect
// the snapshot is fetched again, since events may have been missed.
import { defineStore } from 'pinia'
import { markRaw, ref, shallowRef } from 'vue'
import type { PodPullBridge } from '../../shared/api'
import type { DownloadsChangedEvent } from '../../shared/types'
import type { Connection } from '../bridge'
import { useDownloadsStore } from './downloads'
import { useSettingsStore } from './settings'
import { useTargetsStore } from './targets'

export const useSessionStore = defineStore('session', () => {
  const api = shallowRef<PodPullBridge | null>(null)
  const ready = ref(false)
  const connected = ref(true)
  const loadError = ref<string | null>(null)

  function requireApi(): PodPullBridge {
    if (!api.value) throw new Error('PodPull is not connected yet.')
    return api.value
  }

  async function start(conn: Connection): Promise<void> {
    api.value = markRaw(conn.api)
    const downloads = useDownloadsStore()
    const targets = useTargetsStore()
    const settings = useSettingsStore()
    let buffer: DownloadsChangedEvent[] | null = []

    conn.api.onDownloadsChanged((ev) => (buffer ? buffer.push(ev) : downloads.apply(ev)))
    conn.api.onTargetsChanged((t) => targets.seed(t))
    conn.api.onSettingsChanged((s) => (settings.settings = s))
    conn.api.onTokensChanged((t) => (settings.tokens = t))
    conn.onConnectionChange((c) => (connected.value = c))

    const load = async (): Promise<void> => {
      buffer = buffer ?? []
      try {
        const snap = await conn.api.getSnapshot({})
        downloads.seed(snap.downloads)
        targets.seed(snap.targets)
        settings.seed(snap)
        for (const ev of buffer) downloads.apply(ev)
        loadError.value = null
        ready.value = true
      } catch (err) {
        loadError.value = (err as Error).message
      } finally {
        buffer = null
      }
    }
    conn.onReconnect(() => void load())
    await load()
  }

  return { api, ready, connected, loadError, start, requireApi }
})
