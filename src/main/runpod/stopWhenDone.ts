// "Stop this pod when its downloads finish" (opt-in per RunPod-linked pod):
// pods cost money by the hour. The pod is stopped once downloads that were
// running have all ended (completed, failed, paused or cancelled) — never
// while one is still active, and never for a pod that had nothing running.
import { ACTIVE_STATES, type DownloadRecord } from '../../shared/types'
import type { Target } from '../targets/target'

export interface StopWhenDoneHooks {
  stop: () => Promise<void>
  /** One sentence for the user (log / notification). */
  say: (message: string) => void
}

const activeCount = (records: DownloadRecord[]): number =>
  records.filter((r) => ACTIVE_STATES.includes(r.state)).length

/** Watches the target; returns a function that stops watching. */
export function stopWhenDone(target: Target, name: string, hooks: StopWhenDoneHooks): () => void {
  let sawActive = false
  let stopping = false
  const check = (): void => {
    if (stopping) return
    const active = activeCount(target.downloads())
    if (active > 0) {
      sawActive = true
      return
    }
    if (!sawActive) return
    stopping = true
    hooks
      .stop()
      .then(() => hooks.say(`Stopped the pod "${name}": its downloads finished.`))
      .catch((err: unknown) => {
        stopping = false
        sawActive = false
        hooks.say(`Could not stop the pod "${name}": ${(err as Error).message}`)
      })
  }
  target.on('downloads', check)
  return () => target.off('downloads', check)
}
