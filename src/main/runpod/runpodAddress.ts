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
): Pick<SshConnectionOptions, 'trustKey' | 'resolveAddress' | 'explainHostKeyChange'> {
  let last = initial
  let startedAt: string | null = null
  return {
    trustKey: runpodTrustKey(podId),
    explainHostKeyChange: () =>
      startedAt ? `The pod was recreated on ${readable(startedAt)}; its SSH key is new.` : null,
    resolveAddress: async () => {
      const pod = await api()
        .findPod(podId)
        .catch(() => null)
      startedAt = pod?.lastStartedAt ?? startedAt
      const route = pod?.ssh
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

/** "2026-12-02 01:00 UTC" from an ISO time (as the API gives it). */
function readable(iso: string): string {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}
