// RunPod's account API: the pods with their status, GPU, cost and how each is
// reached over SSH, and starting / stopping one. REST (`GET /v1/pods`, Bearer
// key) is the source; GraphQL fills in the SSH ports when REST leaves them out.
// PODPULL_RUNPOD_ENDPOINT / PODPULL_RUNPOD_GRAPHQL move both (tests, proxies).
// Every failure is one sentence a user can act on; the key is sent only in the
// Authorization header and never appears in an error, a log line or argv.
import type { RunpodPod, RunpodVolume, SshRoute } from '../../shared/runpod'
import { UserError } from '../errors'
import { creationRefusal, type CreatePodRequest } from './fillPodRequest'

export const DEFAULT_REST = 'https://rest.runpod.io/v1'
export const DEFAULT_GRAPHQL = 'https://api.runpod.io/graphql'
/** RunPod's SSH proxy: `<podHostId>@ssh.runpod.io`, a terminal and nothing else. */
export const RUNPOD_SSH_PROXY = 'ssh.runpod.io'

export type { RunpodPod, SshRoute } from '../../shared/runpod'

export interface RunpodApiOptions {
  apiKey: string | undefined
  rest?: string
  graphql?: string
  proxyHost?: string
  timeoutMs?: number
}

export function runpodOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RunpodApiOptions {
  return {
    apiKey: env.RUNPOD_API_KEY || undefined,
    rest: env.PODPULL_RUNPOD_ENDPOINT || DEFAULT_REST,
    graphql: env.PODPULL_RUNPOD_GRAPHQL || DEFAULT_GRAPHQL,
    proxyHost: env.PODPULL_RUNPOD_SSH_PROXY || RUNPOD_SSH_PROXY
  }
}

type Json = Record<string, unknown>
type Method = 'GET' | 'POST' | 'DELETE'
interface GqlSsh {
  ports: Json[]
  podHostId: string | null
}

export class RunpodApi {
  private readonly rest: string
  private readonly graphql: string
  constructor(private readonly o: RunpodApiOptions) {
    this.rest = (o.rest ?? DEFAULT_REST).replace(/\/+$/, '')
    this.graphql = o.graphql ?? DEFAULT_GRAPHQL
  }

  async listPods(): Promise<RunpodPod[]> {
    const raw = await this.request('GET', '/pods?includeMachine=true')
    if (!Array.isArray(raw)) throw malformed()
    const pods = raw.filter(isObject)
    const lacking = pods.some(
      (p) => p.portMappings === undefined || !isObject(p.machine) || !p.machine.podHostId
    )
    const extra = lacking ? await this.graphqlSsh() : null
    return pods.map((p) => toPod(p, extra?.get(String(p.id)), this.o.proxyHost))
  }

  /** One pod by id or by its (unique) name. */
  async findPod(idOrName: string): Promise<RunpodPod> {
    const pods = await this.listPods()
    const byId = pods.find((p) => p.id === idOrName)
    if (byId) return byId
    const named = pods.filter((p) => p.name === idOrName)
    if (named.length === 1 && named[0]) return named[0]
    if (named.length > 1)
      throw new UserError(
        'bad-request',
        `${named.length} RunPod pods are named "${idOrName}": use the pod id (${named.map((p) => p.id).join(', ')}).`
      )
    throw new UserError('not-found', `No RunPod pod with the id or name "${idOrName}".`)
  }

  async startPod(id: string): Promise<void> {
    await this.request('POST', `/pods/${encodeURIComponent(id)}/start`)
  }
  async stopPod(id: string): Promise<void> {
    await this.request('POST', `/pods/${encodeURIComponent(id)}/stop`)
  }

  async listNetworkVolumes(): Promise<RunpodVolume[]> {
    const raw = await this.request('GET', '/networkvolumes')
    if (!Array.isArray(raw)) throw malformed()
    return raw.filter(isObject).map((v) => ({
      id: String(v.id),
      name: typeof v.name === 'string' ? v.name : String(v.id),
      sizeGb: Number(v.size) || 0,
      dataCenterId: typeof v.dataCenterId === 'string' ? v.dataCenterId : ''
    }))
  }

  /** Creates a pod; a refusal for price, capacity or quota is one sentence with what to try. */
  async createPod(req: CreatePodRequest): Promise<{ id: string; costPerHr: number | null }> {
    const raw = await this.send(this.rest + '/pods', 'POST', JSON.stringify(req), creationRefusal)
    if (!isObject(raw) || typeof raw.id !== 'string') throw malformed()
    const cost = Number(raw.adjustedCostPerHr ?? raw.costPerHr)
    return { id: raw.id, costPerHr: Number.isFinite(cost) ? cost : null }
  }

  /** Removes (terminates) a pod; one already gone counts as removed. */
  async deletePod(id: string): Promise<void> {
    try {
      await this.request('DELETE', `/pods/${encodeURIComponent(id)}`)
    } catch (err) {
      if ((err as UserError).code !== 'not-found') throw err
    }
  }

  /** `myself { pods { … } }`: the SSH ports and proxy id REST did not give. */
  private async graphqlSsh(): Promise<Map<string, GqlSsh>> {
    const query =
      'query { myself { pods { id name desiredStatus machine { podHostId } ' +
      'runtime { ports { ip isIpPublic privatePort publicPort type } } } } }'
    const body = await this.send(this.graphql, 'POST', JSON.stringify({ query }))
    const pods = (body as { data?: { myself?: { pods?: unknown } } })?.data?.myself?.pods
    const out = new Map<string, GqlSsh>()
    if (!Array.isArray(pods)) return out
    for (const p of pods.filter(isObject)) {
      const ports = (p.runtime as { ports?: unknown } | null)?.ports
      const hostId = (p.machine as { podHostId?: unknown } | null)?.podHostId
      out.set(String(p.id), {
        ports: Array.isArray(ports) ? ports.filter(isObject) : [],
        podHostId: typeof hostId === 'string' ? hostId : null
      })
    }
    return out
  }

  private request(method: Method, path: string): Promise<unknown> {
    return this.send(this.rest + path, method)
  }

  private async send(
    url: string,
    method: Method,
    body?: string,
    /** Reads a refusal the caller knows better (pod creation). */
    refusal?: (status: number, text: string) => UserError | null
  ): Promise<unknown> {
    const key = this.o.apiKey
    if (!key)
      throw new UserError(
        'runpod-key',
        'No RunPod API key: set RUNPOD_API_KEY (or save the key in Settings).'
      )
    let res: Response
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json' } : {})
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 20_000)
      })
    } catch {
      throw new UserError('runpod-down', `The RunPod API at ${hostOf(url)} cannot be reached.`)
    }
    if (res.status === 401 || res.status === 403)
      throw new UserError(
        'runpod-key',
        'RunPod refused the API key: check RUNPOD_API_KEY (it may be revoked or lack pod access).'
      )
    if (!res.ok && refusal) {
      const why = refusal(res.status, await res.text().catch(() => ''))
      if (why) throw why
    }
    if (res.status === 429)
      throw new UserError('runpod-rate', 'RunPod is rate-limiting requests: try again in a minute.')
    if (res.status === 404) throw new UserError('not-found', 'RunPod has no such pod.')
    if (!res.ok)
      throw new UserError('runpod-down', `The RunPod API answered ${res.status}: try again later.`)
    const text = await res.text()
    if (!text.trim()) return null
    try {
      return JSON.parse(text)
    } catch {
      throw malformed()
    }
  }
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const malformed = (): UserError =>
  new UserError('runpod-down', 'The RunPod API sent an answer PodPull does not understand.')
const hostOf = (url: string): string => {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

function toPod(p: Json, gql: GqlSsh | undefined, proxyHost?: string): RunpodPod {
  const machine = isObject(p.machine) ? p.machine : {}
  const gpu = isObject(p.gpu) ? p.gpu : isObject(machine.gpuType) ? machine.gpuType : null
  const cost = Number(p.adjustedCostPerHr ?? p.costPerHr)
  const status = String(p.desiredStatus ?? 'UNKNOWN')
  return {
    id: String(p.id),
    name: typeof p.name === 'string' ? p.name : String(p.id),
    status,
    gpu: gpu && typeof gpu.displayName === 'string' ? gpu.displayName : null,
    gpuCount: Number(gpu?.count ?? p.gpuCount ?? 0) || 0,
    costPerHr: Number.isFinite(cost) ? cost : null,
    lastStartedAt: typeof p.lastStartedAt === 'string' ? p.lastStartedAt : null,
    ssh: status === 'RUNNING' ? sshRoute(p, machine, gql, proxyHost) : null,
    volumeId: volumeIdOf(p)
  }
}

/** REST gives `networkVolumeId`, or a `networkVolume` object with its id. */
function volumeIdOf(p: Json): string | null {
  if (typeof p.networkVolumeId === 'string' && p.networkVolumeId) return p.networkVolumeId
  const v = isObject(p.networkVolume) ? p.networkVolume : null
  return v && typeof v.id === 'string' ? v.id : null
}

/** Direct TCP when the pod has a public port for 22, else RunPod's proxy. */
function sshRoute(
  p: Json,
  machine: Json,
  gql: GqlSsh | undefined,
  proxy = RUNPOD_SSH_PROXY
): SshRoute | null {
  const mapped = isObject(p.portMappings) ? Number(p.portMappings['22']) : NaN
  if (typeof p.publicIp === 'string' && p.publicIp && Number.isInteger(mapped) && mapped > 0)
    return { via: 'direct', host: p.publicIp, port: mapped, user: 'root' }
  const port = gql?.ports.find((x) => Number(x.privatePort) === 22 && x.isIpPublic === true)
  if (port && typeof port.ip === 'string' && Number(port.publicPort) > 0)
    return { via: 'direct', host: port.ip, port: Number(port.publicPort), user: 'root' }
  const hostId = typeof machine.podHostId === 'string' ? machine.podHostId : gql?.podHostId
  if (!hostId) return null
  // PODPULL_RUNPOD_SSH_PROXY may carry a port (tests: host:port).
  const m = /^(.*?)(?::(\d+))?$/.exec(proxy)
  return { via: 'proxy', host: m?.[1] || proxy, port: Number(m?.[2] ?? 22), user: hostId }
}
