// The CPU pods PodPull creates to fill network volumes, and their bills. A
// pod is recorded in the settings (id, volume, start, $/h) the moment RunPod
// accepts it — before anything waits on it — so a crash can never leave one
// billing unseen: every start reconciles the records with the API.
import { readFile } from 'node:fs/promises'
import type { FillBill, FillPodRecord, RunpodPod, RunpodVolume } from '../../shared/runpod'
import { UserError } from '../errors'
import { loadSsh2 } from '../ssh/sshLogin'
import { presentedFingerprint } from '../ssh/presentedKey'
import { runpodTrustKey } from './runpodAddress'
import type { RunpodApi } from './runpodApi'
import { affordableFlavors, createPodRequest, fillImage } from './fillPodRequest'

/** The part of the app store fill pods live in (and the pinned host keys). */
export interface FillStore {
  get(key: 'fillPods'): Record<string, FillPodRecord>
  set(key: 'fillPods', value: Record<string, FillPodRecord>): void
  get(key: 'knownHosts'): Record<string, string>
  set(key: 'knownHosts', value: Record<string, string>): void
}

const BOOT_POLL_MS = 1000
/** How long a new pod may take to answer SSH (image pull included). */
const BOOT_TIMEOUT_MS = Number(process.env.PODPULL_FILL_BOOT_TIMEOUT_MS) || 10 * 60_000
export const DEFAULT_MAX_HOURS = 6

export class FillPods {
  constructor(
    private readonly store: FillStore,
    private readonly api: () => RunpodApi
  ) {}

  list(): FillPodRecord[] {
    return Object.values(this.store.get('fillPods') ?? {})
  }
  get(podId: string): FillPodRecord | undefined {
    return (this.store.get('fillPods') ?? {})[podId]
  }
  private put(r: FillPodRecord): void {
    this.store.set('fillPods', { ...(this.store.get('fillPods') ?? {}), [r.podId]: r })
  }
  private drop(podId: string): void {
    const all = { ...(this.store.get('fillPods') ?? {}) }
    delete all[podId]
    this.store.set('fillPods', all)
  }

  /** A running pod that has the volume mounted (ours first), if any. */
  async runningWith(volumeId: string): Promise<RunpodPod | null> {
    const pods = (await this.api().listPods()).filter(
      (p) => p.volumeId === volumeId && p.status === 'RUNNING'
    )
    return pods.find((p) => this.get(p.id)) ?? pods[0] ?? null
  }

  /**
   * Creates the fill pod, records it, waits until SSH answers and trusts the
   * host key it presents (PodPull created the pod itself a moment ago). A
   * pod that never answers is removed again.
   */
  async create(o: {
    volume: RunpodVolume
    targetId: string
    workspace: string
    keyPath: string | undefined
    maxPrice: number | undefined
    image: string | undefined
  }): Promise<FillPodRecord> {
    const publicKey = await publicKeyLine(o.keyPath)
    const req = createPodRequest({
      volume: o.volume,
      workspace: o.workspace,
      publicKey,
      maxPrice: o.maxPrice,
      image: fillImage(o.image)
    })
    const created = await this.api().createPod(req)
    // Without RunPod's quote the bill uses the dearest flavor PodPull allowed:
    // an estimate should not promise less than the pod may cost.
    const estimate = affordableFlavors(o.maxPrice).at(-1)!.costPerHr
    let record: FillPodRecord = {
      podId: created.id,
      volumeId: o.volume.id,
      targetId: o.targetId,
      startedAt: Date.now(),
      costPerHr: created.costPerHr ?? estimate,
      ...(created.costPerHr === null ? { costEstimated: true } : {})
    }
    this.put(record)
    try {
      const quoted = await this.waitForSsh(created.id)
      if (record.costEstimated && quoted !== null) {
        record = { ...record, costPerHr: quoted }
        delete record.costEstimated
        this.put(record)
      }
    } catch (err) {
      await this.remove(created.id).catch(() => undefined)
      throw err
    }
    return record
  }

  /** Polls the API until the pod has an SSH route that greets, then pins its key;
   *  the pod's price as the listing quotes it (null: none). */
  private async waitForSsh(podId: string): Promise<number | null> {
    const deadline = Date.now() + BOOT_TIMEOUT_MS
    for (;;) {
      const pod = await this.api()
        .findPod(podId)
        .catch((err: unknown) => {
          if ((err as UserError).code === 'not-found') throw err
          return null
        })
      if (pod?.ssh) {
        const fp = await presentedFingerprint(pod.ssh).catch(() => null)
        if (fp) {
          const key = runpodTrustKey(podId)
          this.store.set('knownHosts', { ...this.store.get('knownHosts'), [key]: fp })
          return pod.costPerHr
        }
      }
      if (Date.now() > deadline)
        throw new UserError(
          'timeout',
          `The fill pod ${podId} did not answer SSH within ${Math.round(BOOT_TIMEOUT_MS / 60_000)} min; it was removed. Try again, or pick another volume datacenter.`
        )
      await sleep(BOOT_POLL_MS)
    }
  }

  /**
   * Pins the host key of a pod PodPull did not create (the user's own, with
   * the volume mounted), under the pod id as an imported pod's key is, once
   * the user checked the fingerprint against the pod's console.
   */
  async trustPod(pod: RunpodPod, fingerprint: string): Promise<void> {
    if (!pod.ssh)
      throw new UserError('offline', `The pod "${pod.name}" (${pod.id}) has no SSH access yet.`)
    const presented = await presentedFingerprint(pod.ssh)
    const wanted = fingerprint.trim()
    if (presented !== wanted)
      throw new UserError(
        'host-key-mismatch',
        `The pod "${pod.name}" (${pod.id}) presents ${presented} now, not ${wanted}: nothing was trusted. Compare with the fingerprint the pod's console prints.`
      )
    const key = runpodTrustKey(pod.id)
    this.store.set('knownHosts', { ...this.store.get('knownHosts'), [key]: presented })
  }

  /** Removes a pod PodPull created and forgets it; what it cost. */
  async remove(podId: string): Promise<FillBill> {
    const r = this.get(podId)
    await this.api().deletePod(podId)
    this.drop(podId)
    const known = { ...this.store.get('knownHosts') }
    delete known[runpodTrustKey(podId)]
    this.store.set('knownHosts', known)
    return billOf(podId, r)
  }

  /**
   * At every start: records of pods that are gone are dropped; a pod past its
   * maximum lifetime, or whose target no longer exists, is removed; the rest
   * are left to their target (it resumes the work and removes the pod after).
   */
  async reconcile(o: {
    targetExists: (id: string) => boolean
    maxHours: (targetId: string) => number
  }): Promise<{ removed: FillBill[]; kept: FillPodRecord[] }> {
    const records = this.list()
    if (!records.length) return { removed: [], kept: [] }
    const live = new Set((await this.api().listPods()).map((p) => p.id))
    const removed: FillBill[] = []
    const kept: FillPodRecord[] = []
    for (const r of records) {
      if (!live.has(r.podId)) {
        this.drop(r.podId)
        continue
      }
      const expired = Date.now() - r.startedAt > o.maxHours(r.targetId) * 3600_000
      if (expired || !o.targetExists(r.targetId)) removed.push(await this.remove(r.podId))
      else kept.push(r)
    }
    return { removed, kept }
  }
}

export function billOf(podId: string, r: FillPodRecord | undefined): FillBill {
  const ranMs = r ? Math.max(0, Date.now() - r.startedAt) : 0
  return {
    podId,
    ranMs,
    cost: r ? (ranMs / 3600_000) * r.costPerHr : 0,
    ...(r?.costEstimated ? { estimated: true } : {})
  }
}

/** "CPU pod ran 14 min, ≈ $0.02" ("…, ≈ $0.02 (estimated price)" without RunPod's quote) */
export function billSentence(b: FillBill): string {
  const min = Math.max(1, Math.round(b.ranMs / 60_000))
  const ran = min >= 90 ? `${(min / 60).toFixed(1)} h` : `${min} min`
  return `CPU pod ran ${ran}, ≈ $${b.cost.toFixed(2)}${b.estimated ? ' (estimated price)' : ''}`
}

/** The OpenSSH public-key line for the key file (its .pub, else derived from the key). */
export async function publicKeyLine(keyPath: string | undefined): Promise<string> {
  if (!keyPath)
    throw new UserError(
      'bad-request',
      'A fill pod needs your SSH key file: give the volume target a key (--key FILE).'
    )
  const pub = await readFile(`${keyPath}.pub`, 'utf8').catch(() => null)
  if (pub?.trim()) return pub.trim().split('\n')[0]!
  const data = await readFile(keyPath).catch(() => null)
  if (!data) throw new UserError('bad-request', `Cannot read the SSH key file ${keyPath}.`)
  const parsed = (await loadSsh2()).utils.parseKey(data)
  const key = Array.isArray(parsed) ? parsed[0] : parsed
  if (!key || key instanceof Error)
    throw new UserError(
      'bad-request',
      `Cannot read a public key from ${keyPath} (a passphrase-protected key needs its .pub file next to it).`
    )
  return `${key.type} ${key.getPublicSSH().toString('base64')}`
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
