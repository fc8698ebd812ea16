// The RunPod part of the handler table: list the account's pods, start and
// stop one. `pod` names a RunPod-linked target, or a pod by id or name. The
// API key comes from RUNPOD_API_KEY (RunPod's own tools use that name).
import type { ApiHandlers } from '../../shared/api'
import type { PodPullCore } from '../core/podpullCore'
import { RunpodApi, runpodOptionsFromEnv } from './runpodApi'

type RunpodHandlers = Pick<ApiHandlers, 'runpodPods' | 'runpodStart' | 'runpodStop'>

export function runpodHandlers(
  core: PodPullCore,
  api = (): RunpodApi => new RunpodApi(runpodOptionsFromEnv())
): RunpodHandlers {
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
      return client.findPod(found.id)
    },
    runpodStop: async ({ pod }) => {
      const client = api()
      const found = await client.findPod(podIdOf(pod))
      await client.stopPod(found.id)
      return client.findPod(found.id)
    }
  }
}
