// A RunPod network volume as a target. Its host is whichever pod has the
// volume mounted: a running pod of the user's (used, never removed) or a CPU
// fill pod PodPull created (removed once the queue is done: all downloads
// ended, cancelled or failed). Work on it goes through a PodTarget bound to
// that pod; the status file lives on the volume, so its history outlives
// every pod. Without a pod the target shows its cached downloads and says
// how to fill it.
import { EventEmitter } from 'node:events'
import {
  ACTIVE_STATES,
  type ConnectionTestResult,
  type DownloadRecord,
  type ModelFile,
  type SshTargetConfig,
  type StartResult,
  type TargetInfo
} from '../../shared/types'
import type { FillBill, FillPodState, VolumeUsage } from '../../shared/runpod'
import { UserError } from '../errors'
import { HostKeyError } from '../ssh/hostKeyTrust'
import type { Target, TargetEvents, TargetPushRequest, TargetStartRequest } from '../targets/target'
import type { PodTarget } from '../targets/pod/podTarget'
import { billSentence, DEFAULT_MAX_HOURS, type FillPods } from './fillPods'
import { watchdogLaunch } from './fillWatchdog'

export interface VolumeTargetDeps {
  fills: FillPods
  /** A pod target bound to this pod (its address and host key come from the API). */
  podFor: (podId: string) => PodTarget
  /** The downloads last seen on the volume (shown while no pod has it). */
  cached: () => DownloadRecord[]
  lastSeen: () => number | null
  /** Tells the user what PodPull did by itself (the bill of a removed pod). */
  notice: (message: string) => void
  /** Keeps what a listing through a pod found on the volume. */
  saveUsage: (usage: VolumeUsage) => void
}

/** The model files' total (each path once: extra roots may list a file twice). */
export function usageOf(files: ModelFile[], podId: string, at = Date.now()): VolumeUsage {
  const seen = new Map(files.map((f) => [f.path ?? `${f.folder}/${f.name}`, f.size]))
  let usedBytes = 0
  for (const size of seen.values()) usedBytes += size
  return { usedBytes, files: seen.size, at, podId }
}

const active = (records: DownloadRecord[]): number =>
  records.filter((r) => ACTIVE_STATES.includes(r.state)).length

export class VolumeTarget extends EventEmitter<TargetEvents> implements Target {
  readonly id: string
  private inner: PodTarget | null = null
  private pod: { id: string; costPerHr: number | null } | null = null
  private note: string | null = null
  private sawActive = false
  /** Starts under way: a queue is not done while more of a batch is still being started. */
  private starting = 0
  private removing: Promise<FillBill | null> | null = null
  private lastBill: FillBill | null = null

  constructor(
    private readonly def: { id: string; name: string; config: SshTargetConfig },
    private readonly deps: VolumeTargetDeps
  ) {
    super()
    this.id = def.id
  }

  private get volume(): NonNullable<SshTargetConfig['runpodVolume']> {
    return this.def.config.runpodVolume!
  }

  info(): TargetInfo {
    const base: TargetInfo = this.inner?.info() ?? {
      id: this.id,
      name: this.def.name,
      config: this.def.config,
      connection: 'offline',
      lastSeen: this.deps.lastSeen(),
      freeBytes: null,
      comfyui: this.def.config.comfyui ?? null,
      message: this.note
    }
    return { ...base, fillPod: this.fillPod() }
  }

  private fillPod(): FillPodState | null {
    if (!this.pod) return null
    const r = this.deps.fills.get(this.pod.id)
    return {
      podId: this.pod.id,
      ours: r !== undefined,
      status: 'RUNNING',
      startedAt: r?.startedAt ?? null,
      costPerHr: r?.costPerHr ?? this.pod.costPerHr,
      ...(r?.costEstimated ? { costEstimated: true } : {})
    }
  }

  downloads(): DownloadRecord[] {
    return this.inner?.downloads() ?? this.deps.cached()
  }

  /** Finds a running pod with the volume and works through it; none: idle, not an error. */
  async open(): Promise<void> {
    let pod
    try {
      pod = await this.deps.fills.runningWith(this.volume.id)
    } catch (err) {
      this.idle((err as Error).message)
      return
    }
    if (!pod) {
      this.idle(
        `No pod has the volume "${this.volume.name}" mounted; a download starts a CPU fill pod once you agree to its cost.`
      )
      return
    }
    await this.usePod(pod.id, pod.costPerHr)
  }

  /** Works through this pod from now on (the fill handler calls it once a new pod answers). */
  async usePod(podId: string, costPerHr: number | null = null): Promise<void> {
    if (this.pod?.id !== podId) {
      await this.detach()
      const inner = this.deps.podFor(podId)
      inner.on('downloads', (ev) => {
        this.emit('downloads', ev)
        this.watchQueue()
      })
      inner.on('info', () => this.emit('info', this.info()))
      this.inner = inner
      this.pod = { id: podId, costPerHr }
      this.sawActive = false
    }
    await this.inner!.open().catch((err: unknown) => {
      throw this.untrusted(err, podId) ?? err
    })
    this.emit('info', this.info())
    // In the background: a connection should not wait on a listing.
    void this.takeInventory()
  }

  /**
   * The user's own pod has the volume but its host key was never confirmed
   * (PodPull trusts on its own only the pods it created): say which pod and
   * how to trust it, as for any pod on first contact.
   */
  private untrusted(err: unknown, podId: string): HostKeyError | null {
    if (!(err instanceof HostKeyError) || err.code !== 'host-key-unknown') return null
    const fp = err.fingerprint
    const name = /^[A-Za-z0-9._-]+$/.test(this.def.name) ? this.def.name : `"${this.def.name}"`
    return new HostKeyError(
      'host-key-unknown',
      `The pod ${podId} has the volume "${this.volume.name}" mounted, but its host key is not trusted yet (${fp}). ` +
        `Check it against the pod's console, then trust it: podpull targets trust ${name} --fingerprint ${fp}`,
      fp
    )
  }

  /** Trusts the host key of the pod that has the volume mounted now. */
  async trustHostKey(fingerprint: string): Promise<void> {
    const pod = await this.deps.fills.runningWith(this.volume.id)
    if (!pod)
      throw new UserError(
        'offline',
        `No pod has the volume "${this.volume.name}" mounted: there is no host key to trust.`
      )
    await this.deps.fills.trustPod(pod, fingerprint)
  }

  /** Lists the volume's models through the pod in use and keeps the total. */
  private async takeInventory(): Promise<void> {
    const pod = this.pod
    const files = await this.inner?.listModels().catch(() => null)
    if (pod && files) this.deps.saveUsage(usageOf(files, pod.id))
  }

  private async detach(): Promise<void> {
    const old = this.inner
    this.inner = null
    this.pod = null
    if (old) {
      old.removeAllListeners()
      await old.close().catch(() => undefined)
    }
  }

  private idle(message: string): void {
    this.note = message
    this.emit('info', this.info())
  }

  async close(): Promise<void> {
    await this.inner?.close()
  }

  /** Our pod's queue ran dry (completed, failed, paused or cancelled): remove it. */
  private watchQueue(): void {
    if (!this.pod || !this.deps.fills.get(this.pod.id)) return
    if (active(this.downloads()) > 0) this.sawActive = true
    else if (this.sawActive && this.starting === 0) void this.finish(false).catch(() => undefined)
  }

  /**
   * Removes the fill pod when its queue is done (or at once with `force`);
   * the user's own pod is never removed. Resolves to the bill, or null when
   * nothing was removed. Concurrent calls share one removal.
   */
  finish(force: boolean): Promise<FillBill | null> {
    const pod = this.pod
    if (!pod && this.lastBill) {
      // Removed by itself a moment ago (the queue ran dry): the caller still gets the bill.
      const bill = this.lastBill
      this.lastBill = null
      return Promise.resolve(bill)
    }
    if (!pod || !this.deps.fills.get(pod.id)) return this.removing ?? Promise.resolve(null)
    if (!force && active(this.downloads()) > 0) return Promise.resolve(null)
    this.removing ??= (async () => {
      // The last look at the volume before the pod that mounts it goes away.
      await this.takeInventory()
      const bill = await this.deps.fills.remove(pod.id)
      await this.detach()
      this.idle(`${billSentence(bill)}; the pod was removed.`)
      this.deps.notice(`Removed the CPU fill pod of "${this.def.name}": ${billSentence(bill)}.`)
      this.lastBill = bill
      return bill
    })().finally(() => (this.removing = null))
    return this.removing
  }

  // ── work: only through a pod ──────────────────────────────────────────

  private connected(): PodTarget {
    if (this.inner) return this.inner
    throw new UserError(
      'offline',
      `No pod has the volume "${this.volume.name}" mounted: fill it with a CPU pod ("Fill…" in the dashboard, or add --yes to the command).`
    )
  }

  start(req: TargetStartRequest): Promise<StartResult> {
    return this.handOver((pod) => pod.start(req))
  }
  /** A file of this computer, sent to the volume through its pod. */
  push(req: TargetPushRequest): Promise<StartResult> {
    return this.handOver((pod) => pod.push(req))
  }
  /** Work handed to the pod: the queue is not taken for done while it is being handed over. */
  private async handOver(work: (pod: PodTarget) => Promise<StartResult>): Promise<StartResult> {
    const pod = this.connected()
    this.starting++
    let r: StartResult
    try {
      r = await work(pod)
    } finally {
      this.starting--
    }
    await this.afterWork()
    return r
  }
  async resume(id: string, url?: string): Promise<void> {
    await this.connected().resume(id, url)
    await this.afterWork()
  }
  async retry(id: string): Promise<void> {
    await this.resume(id)
  }
  pause(id: string): Promise<void> {
    return this.connected().pause(id)
  }
  cancel(id: string): Promise<void> {
    return this.connected().cancel(id)
  }
  remove(id: string): Promise<void> {
    return this.connected().remove(id)
  }
  clearCompleted(): Promise<number> {
    return this.connected().clearCompleted()
  }
  async listModels(): Promise<ModelFile[]> {
    const files = await this.connected().listModels()
    if (this.pod) this.deps.saveUsage(usageOf(files, this.pod.id))
    return files
  }
  test(): Promise<ConnectionTestResult> {
    return this.connected().test()
  }
  rawStatus(): Promise<Record<string, unknown>> {
    return this.connected().rawStatus()
  }
  helperLogTail(): Promise<{ id: string; tail: string }[]> {
    return this.connected().helperLogTail()
  }
  models(): ReturnType<PodTarget['models']> {
    return this.connected().models()
  }

  /** Work was handed to our pod: it must also end by itself if PodPull goes away. */
  private async afterWork(): Promise<void> {
    this.sawActive ||= active(this.downloads()) > 0
    const pod = this.pod && this.deps.fills.get(this.pod.id)
    if (!pod || !this.inner) return
    const launch = watchdogLaunch({
      workspace: this.def.config.workspace,
      podId: pod.podId,
      startedAt: pod.startedAt,
      maxHours: this.volume.maxHours ?? DEFAULT_MAX_HOURS
    })
    await this.inner.runOnPod(launch.command, launch.stdin).catch(() => undefined)
  }
}
