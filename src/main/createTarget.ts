// Builds the right Target for a stored definition, wiring in settings, tokens,
// trusted host keys and the pod snapshot cache from the app store.
import type { TargetContext } from './core/podpullCore'
import type { PodCacheEntry, StoredTarget } from './settings/storeSchema'
import { PodCacheFiles } from './settings/podCacheFiles'
import { VolumeUsageFiles } from './settings/volumeUsageFiles'
import { authFor, authHint, tokenHostsFromEnv } from './sources/tokens'
import { LocalTarget } from './targets/local/localTarget'
import { runpodConnection } from './runpod/runpodAddress'
import { stopWhenDone } from './runpod/stopWhenDone'
import { RunpodApi, runpodOptionsFromEnv } from './runpod/runpodApi'
import { PodTarget, type PodTargetDeps } from './targets/pod/podTarget'
import type { Target } from './targets/target'
import type { SshTargetConfig } from '../shared/types'
import { FillPods } from './runpod/fillPods'
import { storedOwnJobs } from './targets/ownJobs'
import { VolumeTarget } from './runpod/volumeTarget'

export function createTarget(stored: StoredTarget, ctx: TargetContext): Target {
  const { id, name, config } = stored
  const tokenOf = (kind: 'hf' | 'civitai' | 'runpod'): string | undefined => ctx.tokens.get(kind)
  // The jobs this PodPull started here, kept in settings so a restarted app (or
  // the CLI) resumes them, and only them, by itself.
  const ownJobs = storedOwnJobs(
    () => ctx.store.get('ownJobs'),
    (all) => ctx.store.set('ownJobs', all),
    id
  )
  const runpodApi = (): RunpodApi =>
    new RunpodApi({ ...runpodOptionsFromEnv(), apiKey: tokenOf('runpod') })
  if (config.kind === 'local') {
    return new LocalTarget(
      { id, name, config },
      {
        settings: ctx.settings,
        auth: (url) => authFor(url, tokenOf),
        authHint: (url) => authHint(url),
        ownJobs
      }
    )
  }
  const store = ctx.store
  const podCache = PodCacheFiles.beside(store.path)
  const cached = (): PodCacheEntry | undefined => podCache.get(id)
  /** Changes this pod's saved definition (as it is now: another process may have changed it). */
  const saveConfig = (patch: Partial<SshTargetConfig>): void =>
    store.set(
      'targets',
      store
        .get('targets')
        .map((t) =>
          t.id === id && t.config.kind === 'ssh' ? { ...t, config: { ...t.config, ...patch } } : t
        )
    )
  // Before the volume's branch: the pod targets it makes use them too.
  const savedLimits: PodTargetDeps['savedLimits'] = {
    load: () => {
      const c = store.get('targets').find((t) => t.id === id)?.config
      return c?.kind === 'ssh' && c.bandwidth && c.bandwidthSetAt
        ? { limits: c.bandwidth, setAt: c.bandwidthSetAt }
        : undefined
    },
    save: ({ limits, setAt }) => saveConfig({ bandwidth: limits, bandwidthSetAt: setAt })
  }
  // A network volume: worked through whichever pod has it mounted (or a fill pod).
  if (config.runpodVolume) {
    return new VolumeTarget(
      { id, name, config },
      {
        fills: new FillPods(store, runpodApi),
        podFor: (podId) => podTarget(config, runpodConnection(podId, null, runpodApi)),
        cached: () => cached()?.records ?? [],
        lastSeen: () => cached()?.lastSeen ?? null,
        notice: (message) => ctx.notice?.(id, message),
        saveUsage: (usage) =>
          VolumeUsageFiles.beside(store.path).set(config.runpodVolume!.id, usage)
      }
    )
  }
  // A pod imported from RunPod: its address is asked of the API before every connection.
  const runpod = config.runpodPodId
    ? runpodConnection(
        config.runpodPodId,
        { via: 'direct', host: config.host, port: config.port, user: config.user },
        runpodApi,
        (route) => saveConfig({ host: route.host, port: route.port, user: route.user })
      )
    : undefined
  const pod = podTarget(config, runpod)
  const podId = config.runpodPodId
  if (podId && config.stopWhenDone)
    stopWhenDone(pod, name, {
      stop: () => runpodApi().stopPod(podId),
      // On the target's card, in the app log and as a desktop notification.
      say: (message) => ctx.notice?.(id, message)
    })
  return pod

  function podTarget(config: SshTargetConfig, connection: PodTargetDeps['connection']): PodTarget {
    return new PodTarget(
      { id, name, config },
      {
        settings: ctx.settings,
        tokens: () => ({ hf: tokenOf('hf'), civitai: tokenOf('civitai') }),
        tokenHosts: () => tokenHostsFromEnv(),
        knownHosts: {
          get: (hostPort) => store.get('knownHosts')[hostPort],
          set: (hostPort, fp) =>
            store.set('knownHosts', { ...store.get('knownHosts'), [hostPort]: fp })
        },
        secret: () => ctx.secret(id),
        ownJobs,
        savedLimits,
        acceptHostKey: ctx.acceptHostKey,
        ...(connection ? { connection } : {}),
        cache: {
          load: () => cached()?.records,
          lastSeen: () => cached()?.lastSeen ?? null,
          info: () => cached(),
          save: (records, info) => {
            podCache.set(id, {
              records,
              lastSeen: info.lastSeen,
              freeBytes: info.freeBytes,
              comfyui: info.comfyui
            })
          }
        }
      }
    )
  }
}
