// What a fill pod is asked of RunPod: the cheapest CPU flavor under the user's
// price cap, in the volume's datacenter, with the volume mounted at the
// workspace, SSH on a public port and the user's public key (RunPod's images
// put env.PUBLIC_KEY into authorized_keys). Also the one-sentence plan shown
// before anything is created, and how a refused creation is told.
import type { FillPlan, RunpodVolume } from '../../shared/runpod'
import { UserError } from '../errors'

/** REST v1 `POST /pods`, the fields PodPull sends. */
export interface CreatePodRequest {
  name: string
  computeType: 'CPU'
  cpuFlavorIds: string[]
  vcpuCount: number
  imageName: string
  networkVolumeId: string
  dataCenterIds: string[]
  volumeMountPath: string
  containerDiskInGb: number
  ports: string[]
  supportPublicIp: boolean
  env: Record<string, string>
}

/** CPU flavors, cheapest first, with RunPod's list price for 2 vCPUs (an
 *  estimate for the plan; the pod's own quote replaces it once created). */
export const CPU_FLAVORS: readonly { id: string; costPerHr: number }[] = [
  { id: 'cpu3c', costPerHr: 0.06 },
  { id: 'cpu3g', costPerHr: 0.08 },
  { id: 'cpu5c', costPerHr: 0.1 },
  { id: 'cpu5g', costPerHr: 0.12 }
]

/** An image with sshd (started when PUBLIC_KEY is set) and python3; PODPULL_FILL_IMAGE overrides. */
export const FILL_IMAGE = 'runpod/base:0.6.2-cpu'

/** The flavors a price cap allows, cheapest first; a cap below all of them is refused. */
export function affordableFlavors(
  maxPrice: number | undefined
): { id: string; costPerHr: number }[] {
  const ok = CPU_FLAVORS.filter((f) => maxPrice === undefined || f.costPerHr <= maxPrice)
  if (!ok.length)
    throw new UserError(
      'runpod-refused',
      `No CPU pod costs ${dollars(maxPrice ?? 0)}/h or less (the cheapest is ≈ ${dollars(CPU_FLAVORS[0]!.costPerHr)}/h): raise the price cap with --max-price.`
    )
  return ok
}

export function fillPlan(volume: RunpodVolume, maxPrice: number | undefined): FillPlan {
  const flavor = affordableFlavors(maxPrice)[0]!
  return {
    volumeId: volume.id,
    volumeName: volume.name,
    dataCenterId: volume.dataCenterId,
    cpuFlavorId: flavor.id,
    costPerHr: flavor.costPerHr,
    summary:
      `starts a CPU pod in ${volume.dataCenterId || 'the volume’s datacenter'} with the volume ` +
      `"${volume.name}", ≈ ${dollars(flavor.costPerHr)}/h; removed when the downloads finish`
  }
}

export function createPodRequest(o: {
  volume: RunpodVolume
  workspace: string
  publicKey: string
  maxPrice: number | undefined
  image?: string
}): CreatePodRequest {
  return {
    name: `podpull-fill-${o.volume.name}`.slice(0, 60),
    computeType: 'CPU',
    cpuFlavorIds: affordableFlavors(o.maxPrice).map((f) => f.id),
    vcpuCount: 2,
    imageName: o.image || FILL_IMAGE,
    networkVolumeId: o.volume.id,
    dataCenterIds: [o.volume.dataCenterId],
    volumeMountPath: o.workspace,
    containerDiskInGb: 5,
    ports: ['22/tcp'],
    supportPublicIp: true,
    env: { PUBLIC_KEY: o.publicKey }
  }
}

/** A refused creation as one sentence with what to try; null leaves it to the generic reading. */
export function creationRefusal(status: number, text: string): UserError | null {
  if (status === 401 || status === 403) return null
  const said = messageOf(text)
  const t = said.toLowerCase()
  const tell = (what: string): UserError =>
    new UserError('runpod-refused', `RunPod did not create the fill pod (${said}): ${what}`)
  if (/quota|limit|too many pods/.test(t))
    return tell('remove a pod you no longer use, or ask RunPod to raise your limit.')
  if (/balance|funds|credit/.test(t)) return tell('add credit to your RunPod account.')
  if (/price|bid|cost/.test(t))
    return tell('raise the price cap (--max-price) or try another datacenter’s volume.')
  if (/instances? available|no longer any|capacity|not available|unavailable/.test(t))
    return tell('no CPU pod is free in that datacenter now; wait a few minutes and try again.')
  if (status >= 400 && status < 500) return tell('check the volume and try again.')
  return null
}

const messageOf = (text: string): string => {
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown }
    const m = typeof j.error === 'string' ? j.error : typeof j.message === 'string' ? j.message : ''
    return clean(m || text)
  } catch {
    return clean(text)
  }
}
// Text from a server: no control characters, and short enough for one line.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]+/g
const clean = (s: string): string => s.replace(CONTROL, ' ').trim().slice(0, 200)

export const dollars = (v: number): string =>
  `$${v < 0.1 ? v.toFixed(3).replace(/0$/, '') : v.toFixed(2)}`
