// A RunPod-linked pod target's connection settings: before every connection
// attempt the pod's current SSH route is read from the API, so a restart's new
// port (or a move to the proxy) is picked up with nothing for the user to do;
// its trusted host key is kept under the pod id, not under an address that
// changes. When the API can't be asked, the last known address is used.
import type { SshConnectionOptions } from '../ssh/sshConnection'
import type { SshRoute } from '../../shared/runpod'
import type { RunpodApi } from './runpodApi'

export const runpodTrustKey = (podId: string): string => `runpod:${podId}`

export function runpodConnection(
  podId: string,
  /** The address stored on the target. */
  initial: SshRoute | null,
  api: () => RunpodApi,
  /** Told when the pod's address changed, to store it on the target. */
  onMoved?: (route: SshRoute) => void
): Pick<SshConnectionOptions, 'trustKey' | 'resolveAddress'> {
  let last = initial
  return {
    trustKey: runpodTrustKey(podId),
    resolveAddress: async () => {
      const route = await api()
        .findPod(podId)
        .then((p) => p.ssh)
        .catch(() => null)
      if (!route) return null
      if (
        last &&
        (last.host !== route.host || last.port !== route.port || last.user !== route.user)
      )
        onMoved?.(route)
      last = route
      return route
    }
  }
}
