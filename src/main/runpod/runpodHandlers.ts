// The RunPod part of the handler table: list the account's pods, start and
// stop one, import one as a target. `pod` names a RunPod-linked target, or a
// pod by id or name. The API key is the token store's 'runpod' key: saved
// (encrypted) in the app, else RUNPOD_API_KEY (RunPod's own tools use that name).
import type { ApiHandlers } from '../../shared/api'
import type { PodPullCore } from '../core/podpullCore'
import { RunpodApi, runpodOptionsFromEnv } from './runpodApi'
import { importRunpodPod } from './runpodImport'
import { volumeHandlers } from './volumeHandlers'

type RunpodHandlers = Pick<
  ApiHandlers,
  | 'runpodPods'
  | 'runpodStart'
  | 'runpodStop'
  | 'runpodImport'
  | 'runpodVolumes'
  | 'runpodAddVolume'
  | 'runpodFill'
  | 'runpodFillDone'
  | 'runpodReconcile'
>

export function runpodHandlers(
  core: PodPullCore,
  /** The rest of the handler table (import tests the connection and adds the target). */
  calls: Pick<ApiHandlers, 'testConnection' | 'addTarget'>,
  api = (): RunpodApi =>
    new RunpodApi({ ...runpodOptionsFromEnv(), apiKey: core.tokens.get('runpod') })
): RunpodHandlers {
  /** The linked target a `pod` argument names, if it names one. */
  const linkedTarget = (pod: string): string | null => {
    try {
      const t = core.findTarget(pod).info()
      return t.config.kind === 'ssh' && t.config.runpodPodId ? t.id : null
    } catch {
      return null
    }
  }
  /** The pod id behind a linked target's name, else the argument itself. */
  const podIdOf = (pod: string): string => {
    try {
      const config = core.findTarget(pod).info().config
      if (config.kind === 'ssh' && config.runpodPodId) return config.runpodPodId
    } catch {
      // not a target name: a pod id or name
    }
    return pod
  }
  return {
    runpodPods: async () => api().listPods(),
    runpodStart: async ({ pod }) => {
      const client = api()
      const found = await client.findPod(podIdOf(pod))
      await client.startPod(found.id)
      // A "stopped the pod" notice is old news once the user starts it again.
      const linked = linkedTarget(pod)
      if (linked) core.notice(linked, null)
      return client.findPod(found.id)
    },
    runpodStop: async ({ pod }) => {
      const client = api()
      const found = await client.findPod(podIdOf(pod))
      await client.stopPod(found.id)
      return client.findPod(found.id)
    },
    runpodImport: async (args) => importRunpodPod(api(), calls, args),
    ...volumeHandlers(core, api)
  }
}
