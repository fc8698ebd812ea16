// The fill pod's own watchdog, which removes the pod when PodPull is closed:
// through `runpodctl` with the pod-scoped key when the pod has it, else (no
// runpodctl, or one that fails) through RunPod's REST API with that same key;
// and at the pod's maximum lifetime, set by the target's --max-hours or
// capped by PODPULL_FILL_MAX_SECONDS, while a download is still active. Pods
// are the loopback fake's real sshds; every wait is on a file or request the
// watchdog leaves, never on time.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { waitFor } from '../support/wait'
import { heldFill, volumeBench } from '../support/volumeFill'

const b = volumeBench('volwatch')
/** Bounds for a test already failing: creating a pod starts an sshd and puts the helper in place. */
const SLOW = { ms: 120_000 }
const TEST_MS = 240_000

const watchdogLog = (ws: string, podId: string): string =>
  readFileSync(join(ws, '.podpull', `fill-watchdog-${podId}.log`), 'utf8')
const recorded = (calls: string) => (): string =>
  existsSync(calls) ? readFileSync(calls, 'utf8') : ''

describe("the fill pod's watchdog", () => {
  it(
    'removes the pod with runpodctl and the pod-scoped key once the queue is done',
    async () => {
      const { podId, calls, release } = await heldFill(b, 'selfremove', {
        env: { PODPULL_FILL_IDLE_SECONDS: '1' }
      })
      expect(existsSync(calls)).toBe(false)
      release()
      const line = await waitFor(recorded(calls), 'the watchdog to call runpodctl', SLOW)
      expect(line.trim()).toBe(`remove pod ${podId} key=pod`)
      // runpodctl did it: the API saw no DELETE from the pod itself.
      expect(b.fake.requests.filter((r) => r.method === 'DELETE')).toEqual([])
    },
    TEST_MS
  )

  it.each([
    ['is not on the pod', 'missing'],
    ['fails', 'fails']
  ] as const)(
    "removes the pod through RunPod's REST API with the pod-scoped key when runpodctl %s",
    async (_, runpodctl) => {
      const id = `rest${runpodctl}`
      const { ws, podId, calls, release } = await heldFill(b, id, {
        env: { PODPULL_FILL_IDLE_SECONDS: '1' },
        runpodctl
      })
      release()
      await waitFor(() => b.fake.deleted.includes(podId), "the watchdog's DELETE of its pod", SLOW)
      const deletes = b.fake.requests.filter(
        (r) => r.method === 'DELETE' && r.path === `/v1/pods/${podId}`
      )
      expect(deletes.map((r) => r.authorization)).toEqual([`Bearer ${b.fake.podKey}`])
      expect(b.fake.pods.some((p) => p.id === podId)).toBe(false)
      if (runpodctl === 'fails')
        expect(readFileSync(calls, 'utf8').trim()).toBe(`remove pod ${podId} key=pod`)
      else expect(existsSync(calls)).toBe(false)
      const log = watchdogLog(ws, podId)
      expect(log).toContain(`removing pod ${podId}: queue done`)
      expect(log).not.toContain('DELETE failed')
      expect(log).not.toContain(b.fake.podKey)
    },
    TEST_MS
  )

  it.each([
    ['--max-hours on the target', { addArgs: ['--max-hours', '0.0003'] }, '0.0003'],
    ['PODPULL_FILL_MAX_SECONDS', { env: { PODPULL_FILL_MAX_SECONDS: '1' } }, '0.000277778']
  ] as const)(
    'removes the pod at its maximum lifetime (%s) while a download is still active',
    async (_, o, hours) => {
      // The idle rule cannot fire (an hour), the download stays held: only
      // the lifetime can end the pod.
      const env = { PODPULL_FILL_IDLE_SECONDS: '3600', ...('env' in o ? o.env : {}) }
      const id = `life${hours.replace('.', '')}`
      const { ws, podId, calls } = await heldFill(b, id, { ...o, env })
      const line = await waitFor(recorded(calls), 'the watchdog to call runpodctl', SLOW)
      expect(line.trim()).toBe(`remove pod ${podId} key=pod`)
      // With a lifetime of about a second the watchdog may act before the
      // entry has moved on from 'starting': any unfinished state proves the point.
      const status = JSON.parse(readFileSync(join(ws, '.download_status.json'), 'utf8'))
      const states = Object.values(status).map((e) => (e as { status: string }).status)
      expect(states).toHaveLength(1)
      expect(['queued', 'starting', 'downloading']).toContain(states[0])
      const log = watchdogLog(ws, podId)
      expect(log).toContain(`maximum lifetime of ${hours} h`)
      expect(log).toContain('maximum lifetime reached')
      expect(log).not.toContain('queue done')
    },
    TEST_MS
  )
})
