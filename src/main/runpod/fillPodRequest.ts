// What a fill pod is asked of RunPod: the cheapest CPU flavor under the user's
// price cap (from PodPull's dated price list), in the volume's datacenter, with the volume mounted at the
// workspace, SSH on a public port and the user's public key (RunPod's images
// put env.PUBLIC_KEY into authorized_keys). Also the one-sentence plan shown
// before anything is created, and how a refused creation is told.
import { FILL_IMAGE, PRICES_AS_OF, type FillPlan, type RunpodVolume } from '../../shared/runpod'
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

/**
 * PodPull's own price list for 2 vCPUs of each CPU flavor, cheapest first:
 * used for the plan shown before a pod exists, and for the bill when RunPod
 * quotes no price for the pod. RunPod's docs list the flavors (cpu3c/cpu3g in
 * most datacenters, cpu5c in EU-RO-1 only) but not their prices, which its
 * console shows at deploy time, so these are estimates as of PRICES_AS_OF and
 * every figure made from them says so. PODPULL_CPU_PRICES="cpu3c=0.07,…"
 * replaces entries (or adds flavors) without a new build.
 */
export const CPU_FLAVORS: readonly Flavor[] = [
  { id: 'cpu3c', costPerHr: 0.06 },
  { id: 'cpu3g', costPerHr: 0.08 },
  { id: 'cpu5c', costPerHr: 0.1 },
  { id: 'cpu5g', costPerHr: 0.12 }
]
interface Flavor {
  id: string
  costPerHr: number
}

/** The price list with PODPULL_CPU_PRICES applied, cheapest first. */
export function cpuFlavors(env: NodeJS.ProcessEnv = process.env): Flavor[] {
  const table = new Map(CPU_FLAVORS.map((f) => [f.id, f.costPerHr]))
  for (const part of (env.PODPULL_CPU_PRICES ?? '').split(',')) {
    if (!part.trim()) continue
    const m = /^\s*([a-z0-9-]+)\s*=\s*([0-9]*\.?[0-9]+)\s*$/i.exec(part)
    if (!m || !(Number(m[2]) > 0))
      throw new UserError(
        'bad-request',
        `PODPULL_CPU_PRICES: "${part.trim()}" is not flavor=USD_PER_HOUR (e.g. cpu3c=0.07).`
      )
    table.set(m[1]!.toLowerCase(), Number(m[2]))
  }
  return [...table]
    .map(([id, costPerHr]) => ({ id, costPerHr }))
    .sort((a, b) => a.costPerHr - b.costPerHr)
}

/** Which image a fill pod of this volume target runs. */
export const fillImage = (targetImage: string | undefined, env = process.env): string =>
  targetImage || env.PODPULL_FILL_IMAGE || FILL_IMAGE

/** The flavors a price cap allows, cheapest first; a cap below all of them is refused. */
export function affordableFlavors(maxPrice: number | undefined): Flavor[] {
  const all = cpuFlavors()
  const ok = all.filter((f) => maxPrice === undefined || f.costPerHr <= maxPrice)
  if (!ok.length)
    throw new UserError(
      'runpod-refused',
      `No CPU pod costs ${dollars(maxPrice ?? 0)}/h or less (the cheapest is ≈ ${dollars(all[0]!.costPerHr)}/h): raise the price cap with --max-price.`
    )
  return ok
}

/** What a fill is assumed to move per second (a datacenter link, kept cautious) and
 *  how long a pod takes to boot: only for the "about $X in all" of a plan. */
const ASSUMED_BYTES_PER_S = 50e6
const ASSUMED_BOOT_H = 5 / 60

/** Hours and dollars a fill of `bytes` is expected to take at `costPerHr`. */
export function expectedCost(bytes: number, costPerHr: number): { hours: number; cost: number } {
  const hours = ASSUMED_BOOT_H + bytes / ASSUMED_BYTES_PER_S / 3600
  return { hours, cost: hours * costPerHr }
}

export function fillPlan(
  volume: RunpodVolume,
  maxPrice: number | undefined,
  bytes?: number
): FillPlan {
  const flavor = affordableFlavors(maxPrice)[0]!
  const expected = bytes && bytes > 0 ? expectedCost(bytes, flavor.costPerHr) : null
  const total = expected
    ? ` (about ${minutesOrHours(expected.hours)} for ${gigabytes(bytes!)}, ≈ ${dollars(expected.cost)} in all)`
    : ''
  return {
    volumeId: volume.id,
    volumeName: volume.name,
    dataCenterId: volume.dataCenterId,
    cpuFlavorId: flavor.id,
    costPerHr: flavor.costPerHr,
    priceEstimated: true,
    pricesAsOf: PRICES_AS_OF,
    ...(expected ? { expected } : {}),
    summary:
      `starts a CPU pod in ${volume.dataCenterId || 'the volume’s datacenter'} with the volume ` +
      `"${volume.name}", ≈ ${dollars(flavor.costPerHr)}/h${total}; removed when the downloads finish ` +
      `(estimated from PodPull's ${PRICES_AS_OF} price list; RunPod's quote replaces it once the pod exists)`
  }
}

const minutesOrHours = (h: number): string =>
  h >= 1.5 ? `${h.toFixed(1)} h` : `${Math.max(1, Math.round(h * 60))} min`
const gigabytes = (b: number): string => `${(b / 1e9).toFixed(b < 10e9 ? 1 : 0)} GB`

export function createPodRequest(o: {
  volume: RunpodVolume
  workspace: string
  publicKey: string
  maxPrice: number | undefined
  image: string
}): CreatePodRequest {
  return {
    name: `podpull-fill-${o.volume.name}`.slice(0, 60),
    computeType: 'CPU',
    cpuFlavorIds: affordableFlavors(o.maxPrice).map((f) => f.id),
    vcpuCount: 2,
    imageName: o.image,
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
