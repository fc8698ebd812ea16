// RunPod pods as every process sees them (the account client in main, the CLI,
// the dashboard's RunPod section). No node/electron imports.
import { formatAgo, formatBytes } from './format'
import type { ConnectionTestResult, TargetInfo } from './types'

/**
 * The image a fill pod runs: RunPod's official CPU-only base image (Ubuntu
 * 22.04, runpod/containers official-templates/base). Its start script puts
 * env.PUBLIC_KEY into authorized_keys and starts sshd, and it has python3 (the
 * system 3.10, plus 3.9–3.13), which is all the helper needs. A target's
 * `image` setting, then PODPULL_FILL_IMAGE, replace it.
 */
export const FILL_IMAGE = 'runpod/base:1.0.2-ubuntu2204'
/** When PodPull's CPU price list was last checked. */
export const PRICES_AS_OF = '2026-12'

export type RunpodStatus = 'RUNNING' | 'EXITED' | 'TERMINATED' | string

export interface SshRoute {
  /** 'direct': the pod's public IP and the public port mapped to 22; 'proxy': RunPod's SSH proxy. */
  via: 'direct' | 'proxy'
  host: string
  port: number
  user: string
}

export interface RunpodPod {
  id: string
  name: string
  status: RunpodStatus
  gpu: string | null
  gpuCount: number
  costPerHr: number | null
  /** When the container last started (ISO); a new value after a recreate. */
  lastStartedAt: string | null
  /** null while the pod is stopped or has neither a public port 22 nor a proxy id yet. */
  ssh: SshRoute | null
  /** The network volume mounted on the pod, if any. */
  volumeId?: string | null
}

/** What importing a pod gives: the new target, or (first contact) the host key
 *  to confirm — then `target` is null and nothing was saved. */
export interface RunpodImportResult {
  target: TargetInfo | null
  test: ConnectionTestResult | null
  via: SshRoute['via']
}

/** A network volume of the account (REST `GET /networkvolumes`). */
export interface RunpodVolume {
  id: string
  name: string
  /** Size in GB, as RunPod bills it. */
  sizeGb: number
  dataCenterId: string
  /** What PodPull last saw on it (RunPod's API gives only the size); null: never seen. */
  usage?: VolumeUsage | null
}

/**
 * The volume's model files as listed through the last pod that had it mounted
 * (taken when PodPull connects to such a pod, and again just before it removes
 * its own fill pod). Other files on the volume are not counted.
 */
export interface VolumeUsage {
  /** Sum of the model files' sizes. */
  usedBytes: number
  files: number
  /** Epoch ms the listing was taken. */
  at: number
  /** The pod it was taken through. */
  podId: string
}

/** "models use 12.3 GB of 50 GB, as of 5 min ago" / "used space unknown: …" */
export function volumeUsageWords(v: RunpodVolume, now = Date.now()): string {
  if (!v.usage) return 'used space unknown: no pod with this volume has been listed yet'
  const of = v.sizeGb > 0 ? ` of ${v.sizeGb} GB` : ''
  return `models use ${formatBytes(v.usage.usedBytes)}${of}, as of ${formatAgo(v.usage.at, now)}`
}

/** A CPU pod PodPull created to fill a volume: kept in settings until it is removed,
 *  so it never bills unseen (reconciled with the API at every start). */
export interface FillPodRecord {
  podId: string
  volumeId: string
  /** The volume target the pod works for. */
  targetId: string
  /** Epoch ms the pod was created. */
  startedAt: number
  /** $/h as RunPod quoted it at creation, else from PodPull's price list. */
  costPerHr: number
  /** true: RunPod quoted no price, so costPerHr (and every bill) is PodPull's estimate. */
  costEstimated?: boolean
}

/** What filling a volume will do, shown before the user agrees. */
export interface FillPlan {
  volumeId: string
  volumeName: string
  dataCenterId: string
  cpuFlavorId: string
  costPerHr: number
  /** Always true: no pod exists yet, so the price is PodPull's list price for the flavor. */
  priceEstimated: boolean
  /** When that price list was last checked ("2026-12"). */
  pricesAsOf: string
  /** With the bytes to fetch: hours at an assumed rate (boot included) and what they cost. */
  expected?: { hours: number; cost: number }
  /** "starts a CPU pod in EU-RO-1 with this volume, ≈ $0.06/h; removed when the downloads finish" */
  summary: string
}

/** The pod a volume target works through, as the card and the CLI show it. */
export interface FillPodState {
  podId: string
  /** true: PodPull created it and removes it when the queue is done; false: the user's own pod. */
  ours: boolean
  status: RunpodStatus
  startedAt: number | null
  costPerHr: number | null
  /** true: costPerHr is PodPull's estimate (RunPod quoted none). */
  costEstimated?: boolean
}

/** `runpodFill`: either the plan to confirm (nothing was created), or the pod in use. */
export interface FillResult {
  plan: FillPlan | null
  pod: FillPodState | null
}

/** `runpodFillDone`: what the fill pod cost, once removed (null: nothing was removed). */
export interface FillBill {
  podId: string
  ranMs: number
  cost: number
  /** true: the cost comes from PodPull's price list, not RunPod's quote. */
  estimated?: boolean
}
