// The persisted state of the app (settings, targets, trusted host keys, encrypted
// secrets; pods' snapshots and volumes' usage have files of their own:
// podCacheFiles.ts, volumeUsageFiles.ts) and its versioned migrations. Used
// by electron-store in the app and by `conf` (its base) in the CLI and the
// headless server, so both read and write the same file.
import type { Options } from 'conf'
import { DEFAULT_SETTINGS } from '../../shared/types'
import type { AppliedSet, DownloadRecord, Settings, TargetConfig } from '../../shared/types'
import type { FillPodRecord } from '../../shared/runpod'
import { PodCacheFiles } from './podCacheFiles'
import { VolumeUsageFiles } from './volumeUsageFiles'
import type { JsonFileDir } from './jsonFileDir'

export interface StoredTarget {
  id: string
  name: string
  config: TargetConfig
}

export interface PodCacheEntry {
  records: DownloadRecord[]
  lastSeen: number | null
  freeBytes: number | null
  comfyui: string | null
}

export type StoreShape = {
  settings: Settings
  targets: StoredTarget[]
  /** "host:port" → "SHA256:…" */
  knownHosts: Record<string, string>
  /** Encrypted (safeStorage) tokens, base64. Only the Electron app can read them. */
  tokens: Partial<Record<'hf' | 'civitai' | 'runpod', string>>
  /** Encrypted passphrases / passwords per target id, base64. */
  secrets: Record<string, string>
  /** Pods PodPull created to fill volumes, by pod id, until they are removed
   *  (a new key with a default: older files need no migration). */
  fillPods: Record<string, FillPodRecord>
  /** Per target id: the downloads this PodPull started or its user resumed
   *  (id → status-file path), the only ones resumed by itself (targets/ownJobs.ts). */
  ownJobs: Record<string, Record<string, string>>
  /** The sets applied (newest first, a few), so their state can be shown later. */
  appliedSets: AppliedSet[]
  window: { x?: number; y?: number; width: number; height: number; maximized: boolean }
}

/** Bump with a migration below whenever StoreShape changes incompatibly. */
export const STORE_VERSION = '2.2.0'

export const STORE_DEFAULTS: StoreShape = {
  settings: DEFAULT_SETTINGS,
  targets: [],
  knownHosts: {},
  tokens: {},
  secrets: {},
  fillPods: {},
  ownJobs: {},
  appliedSets: [],
  window: { width: 1200, height: 800, maximized: false }
}

type Store = {
  readonly path: string
  get(key: string): unknown
  set(key: string, value: unknown): void
  has(key: string): boolean
  delete(key: string): void
}

export const STORE_MIGRATIONS: Record<string, (store: Store) => void> = {
  // 1.x kept one flat "maxConcurrent" setting and pods' host keys under "hostKeys".
  '2.0.0': (store) => {
    if (store.has('maxConcurrent')) {
      const settings = { ...DEFAULT_SETTINGS, ...(store.get('settings') as Partial<Settings>) }
      settings.concurrency = Number(store.get('maxConcurrent')) || settings.concurrency
      store.set('settings', settings)
      store.delete('maxConcurrent')
    }
    if (store.has('hostKeys')) {
      store.set('knownHosts', store.get('hostKeys'))
      store.delete('hostKeys')
    }
  },
  // Pods' snapshots lived in this file under "podCache"; each is its own file now.
  '2.1.0': (store) => moveToFiles(store, 'podCache', PodCacheFiles.beside(store.path)),
  // Network volumes' usage lived here under "volumeUsage"; each is its own file now.
  '2.2.0': (store) => moveToFiles(store, 'volumeUsage', VolumeUsageFiles.beside(store.path))
}

/** Moves the map kept under `key` into one file per entry, and drops the key. */
function moveToFiles<T>(store: Store, key: string, files: JsonFileDir<T>): void {
  const map = store.get(key)
  if (map && typeof map === 'object')
    for (const [id, entry] of Object.entries(map as Record<string, T>)) files.set(id, entry)
  store.delete(key)
}

export function storeOptions(cwd: string): Options<StoreShape> {
  return {
    cwd,
    configName: 'config',
    projectName: 'podpull',
    projectVersion: STORE_VERSION,
    defaults: STORE_DEFAULTS,
    migrations: STORE_MIGRATIONS as Options<StoreShape>['migrations'],
    clearInvalidConfig: false
  }
}
