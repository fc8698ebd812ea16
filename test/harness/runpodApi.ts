// A loopback fake of RunPod's REST (`/v1/pods`, start, stop, create, delete,
// `/v1/networkvolumes`) and GraphQL (`myself { pods { … } }`) APIs, with the
// response shapes of RunPod's public docs. Tests set pods and volumes, flip
// faults (bad key, rate limit, API down, REST without ports so GraphQL must
// fill them in, a refused creation) and read the request log. A created pod
// comes up as a REAL sshd whose authorized_keys is the PUBLIC_KEY it was sent,
// serving the volume's folder (the test mounts it as the workspace), with the
// pod's env (RUNPOD_POD_ID, a pod-scoped RUNPOD_API_KEY) in every session.
// With `createVia: 'proxy'` a created pod gets no public port: its sshd is
// configured like RunPod's PTY-only proxy and is reached only through the
// fake's own relay (`proxyAddress`, for PODPULL_RUNPOD_SSH_PROXY), as
// `<podHostId>@ssh.runpod.io` is.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import { withErrorListener } from '../support/listeners'
import { startSshd, type SshdHarness } from './sshd'

export interface FakePod {
  id: string
  name: string
  desiredStatus: 'RUNNING' | 'EXITED' | 'TERMINATED'
  /** null: RunPod quotes no price for the pod (REST leaves the fields out). */
  costPerHr: number | null
  gpu: { displayName: string; count: number } | null
  publicIp: string | null
  portMappings: Record<string, number> | null
  podHostId: string
  lastStartedAt: string
  networkVolumeId?: string
  computeType?: 'CPU' | 'GPU'
  /** A created pod's sshd (up once the pod is RUNNING with ports). */
  sshd?: SshdHarness
}

export interface FakeVolume {
  id: string
  name: string
  size: number
  dataCenterId: string
}

/** How a POST /pods is refused (RunPod's 400/500 answers carry an `error` sentence). */
export type CreateFault = 'none' | 'price' | 'capacity' | 'quota'
const CREATE_REFUSALS: Record<Exclude<CreateFault, 'none'>, [number, string]> = {
  price: [400, 'There are no instances available at or below your maximum bid price.'],
  capacity: [500, 'There are no longer any instances available with the requested specifications.'],
  quota: [400, 'You have reached the maximum number of pods (quota exceeded) for this account.']
}

export interface FakeRunpod {
  /** REST base, for PODPULL_RUNPOD_ENDPOINT. */
  rest: string
  /** GraphQL URL, for PODPULL_RUNPOD_GRAPHQL. */
  graphql: string
  key: string
  pods: FakePod[]
  fault: 'none' | 'rate' | 'down'
  /** REST leaves out publicIp/portMappings/machine (GraphQL has them). */
  restWithoutSsh: boolean
  /** Called on POST …/start, after the pod is RUNNING (a test changes the port here). */
  onStart?: (pod: FakePod) => void
  requests: { method: string; path: string; authorization: string | undefined; body: string }[]
  volumes: FakeVolume[]
  createFault: CreateFault
  /** The folder each volume's pods serve (a temp dir per volume id, set by the test). */
  volumeDirs: Record<string, string>
  /** A folder put first on a created pod's PATH (a `runpodctl` stand-in). */
  podBin?: string
  /** The whole PATH of a created pod's sessions instead (e.g. one without runpodctl). */
  podPath?: string
  /** The key RunPod gives a created pod as RUNPOD_API_KEY (never the account key). */
  podKey: string
  /** How a created pod is reached: a public port mapped to 22, or only RunPod's PTY proxy. */
  createVia: 'direct' | 'proxy'
  /** host:port of the fake's PTY proxy (PODPULL_RUNPOD_SSH_PROXY). */
  proxyAddress: string
  /** Connections the proxy relayed to a pod. */
  proxyConnections: number
  /** $/h a created pod is quoted at; null: no price in any answer about it. */
  createdPrice: number | null
  /** Every POST /pods body, parsed, with the pod id it got. */
  created: { podId: string; body: Record<string, unknown> }[]
  deleted: string[]
  /** Resolves once a created pod's sshd answers (or failed to start). */
  settled(): Promise<void>
  close(): Promise<void>
}

function restPod(p: FakePod, withSsh: boolean): Record<string, unknown> {
  const base = {
    id: p.id,
    name: p.name,
    desiredStatus: p.desiredStatus,
    ...(p.costPerHr === null
      ? {}
      : { costPerHr: String(p.costPerHr), adjustedCostPerHr: p.costPerHr }),
    ...(p.gpu ? { gpu: { id: p.gpu.displayName, ...p.gpu } } : {}),
    image: 'runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04',
    lastStartedAt: p.lastStartedAt,
    interruptible: false,
    locked: false,
    ...(p.networkVolumeId ? { networkVolumeId: p.networkVolumeId } : {}),
    ...(p.computeType ? { computeType: p.computeType } : {})
  }
  if (!withSsh) return base
  return {
    ...base,
    publicIp: p.publicIp,
    portMappings: p.portMappings ?? {},
    machine: { podHostId: p.podHostId, gpuTypeId: p.gpu?.displayName ?? null }
  }
}

function gqlPod(p: FakePod): Record<string, unknown> {
  const ports =
    p.desiredStatus !== 'RUNNING'
      ? null
      : {
          ports: Object.entries(p.portMappings ?? {}).map(([priv, pub]) => ({
            ip: p.publicIp ?? '100.65.0.2',
            isIpPublic: p.publicIp !== null,
            privatePort: Number(priv),
            publicPort: pub,
            type: 'tcp'
          }))
        }
  return {
    id: p.id,
    name: p.name,
    desiredStatus: p.desiredStatus,
    machine: { podHostId: p.podHostId },
    runtime: ports
  }
}

const body = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })

export async function startFakeRunpod(pods: FakePod[] = []): Promise<FakeRunpod> {
  const fake: FakeRunpod = {
    rest: '',
    graphql: '',
    key: 'rpa_' + Math.random().toString(36).slice(2) + 'KEY',
    pods,
    fault: 'none',
    restWithoutSsh: false,
    requests: [],
    volumes: [],
    createFault: 'none',
    volumeDirs: {},
    podKey: 'rpa_POD_SCOPED_' + Math.random().toString(36).slice(2),
    createdPrice: 0.06,
    createVia: 'direct',
    proxyAddress: '',
    proxyConnections: 0,
    created: [],
    deleted: [],
    settled: () => Promise.all(booting).then(() => undefined),
    close: async () => {
      await Promise.all(booting)
      await Promise.all(fake.pods.map((p) => p.sshd?.close()))
      relayed.forEach((c) => c.destroy())
      await Promise.all([
        new Promise<void>((r) => server.close(() => r())),
        new Promise<void>((r) => proxy.close(() => r()))
      ])
    }
  }
  // RunPod's SSH proxy: relays each connection to the newest proxy-only pod
  // that is up (tests run one at a time), refusing it when there is none.
  const relayed = new Set<Socket>()
  const proxy = createTcpServer((client) => {
    withErrorListener(client)
    relayed.add(client)
    client.on('close', () => relayed.delete(client))
    const pod = [...fake.pods].reverse().find((p) => p.sshd && p.publicIp === null)
    if (!pod?.sshd) return void client.destroy()
    fake.proxyConnections++
    const upstream = withErrorListener(connect(pod.sshd.port, '127.0.0.1'))
    relayed.add(upstream)
    upstream.on('close', () => {
      relayed.delete(upstream)
      client.destroy()
    })
    client.on('close', () => upstream.destroy())
    client.pipe(upstream).pipe(client)
  })
  const booting: Promise<void>[] = []
  let serial = 0
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x')
      const text = await body(req)
      fake.requests.push({
        method: req.method ?? '',
        path: url.pathname,
        authorization: req.headers.authorization,
        body: text
      })
      const send = (status: number, json: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(json))
      }
      if (fake.fault === 'down') return send(503, { error: 'Service Unavailable' })
      if (fake.fault === 'rate') return send(429, { error: 'Too Many Requests' })
      if (req.headers.authorization !== `Bearer ${fake.key}` && !podScoped(req, url))
        return send(401, { error: 'Unauthorized' })
      if (url.pathname === '/graphql' && req.method === 'POST') {
        const q = (JSON.parse(text || '{}') as { query?: string }).query ?? ''
        if (!q.includes('myself')) return send(400, { errors: [{ message: 'bad query' }] })
        return send(200, { data: { myself: { pods: fake.pods.map(gqlPod) } } })
      }
      if (url.pathname === '/v1/pods' && req.method === 'GET')
        return send(
          200,
          fake.pods.map((p) => restPod(p, !fake.restWithoutSsh))
        )
      if (url.pathname === '/v1/networkvolumes' && req.method === 'GET')
        return send(200, fake.volumes)
      if (url.pathname === '/v1/pods' && req.method === 'POST') {
        if (fake.createFault !== 'none') {
          const [status, error] = CREATE_REFUSALS[fake.createFault]
          return send(status, { error })
        }
        const asked = JSON.parse(text || '{}') as Record<string, unknown>
        const pod = createPod(asked, `cpu${++serial}${Math.random().toString(36).slice(2, 8)}`)
        if (typeof pod === 'string') return send(400, { error: pod })
        return send(201, restPod(pod, true))
      }
      const del = /^\/v1\/pods\/([^/]+)$/.exec(url.pathname)
      if (del && req.method === 'DELETE') {
        const id = decodeURIComponent(del[1] ?? '')
        const gone = fake.pods.find((p) => p.id === id)
        if (!gone) return send(404, { error: 'pod not found' })
        fake.pods = fake.pods.filter((p) => p !== gone)
        fake.deleted.push(id)
        await gone.sshd?.close()
        return send(200, {})
      }
      const m = /^\/v1\/pods\/([^/]+)\/(start|stop)$/.exec(url.pathname)
      const pod = m && fake.pods.find((p) => p.id === decodeURIComponent(m[1] ?? ''))
      if (m && req.method === 'POST') {
        if (!pod) return send(404, { error: 'pod not found' })
        if (m[2] === 'stop') pod.desiredStatus = 'EXITED'
        else {
          pod.desiredStatus = 'RUNNING'
          fake.onStart?.(pod)
        }
        return send(200, restPod(pod, true))
      }
      send(404, { error: 'not found' })
    })()
  })
  /** The key RunPod gives a pod is good for that pod alone: here, removing a created pod. */
  function podScoped(req: IncomingMessage, url: URL): boolean {
    const own = /^\/v1\/pods\/([^/]+)$/.exec(url.pathname)
    return (
      req.headers.authorization === `Bearer ${fake.podKey}` &&
      req.method === 'DELETE' &&
      own !== null &&
      fake.created.some((c) => c.podId === decodeURIComponent(own[1] ?? ''))
    )
  }

  /** A CPU pod with the volume: RUNNING at once, SSH once its sshd answers. */
  function createPod(asked: Record<string, unknown>, id: string): FakePod | string {
    const volume = fake.volumes.find((v) => v.id === asked.networkVolumeId)
    if (asked.networkVolumeId !== undefined && !volume) return 'network volume not found'
    const env = (asked.env ?? {}) as Record<string, string>
    if (typeof env.PUBLIC_KEY !== 'string') return 'no PUBLIC_KEY'
    const pod: FakePod = {
      ...fakePod({ id, name: String(asked.name ?? id) }),
      costPerHr: fake.createdPrice,
      gpu: null,
      publicIp: null,
      portMappings: null,
      podHostId: '',
      networkVolumeId: volume?.id,
      computeType: asked.computeType === 'CPU' ? 'CPU' : 'GPU',
      lastStartedAt: new Date().toISOString()
    }
    fake.created.push({ podId: id, body: asked })
    fake.pods.push(pod)
    const path = fake.podPath ?? [fake.podBin, process.env.PATH].filter(Boolean).join(':')
    const viaProxy = fake.createVia === 'proxy'
    booting.push(
      startSshd({
        authorizedKey: env.PUBLIC_KEY,
        sessionEnv: { PATH: path, RUNPOD_POD_ID: id, RUNPOD_API_KEY: fake.podKey },
        ...(viaProxy ? { ptyOnly: true, maxSessions: 1 } : {})
      }).then(
        (sshd) => {
          if (!fake.pods.includes(pod)) return void sshd.close()
          pod.sshd = sshd
          if (viaProxy) {
            // No public port: only the proxy, as `<podHostId>@…` (here the local user).
            pod.portMappings = {}
            pod.podHostId = sshd.user
          } else {
            pod.publicIp = '127.0.0.1'
            pod.portMappings = { '22': sshd.port }
            pod.podHostId = `${id}-64410f3a`
          }
        },
        () => undefined
      )
    )
    return pod
  }

  await new Promise<void>((r, fail) => {
    server.on('error', fail) // kept for the server's life
    server.listen(0, '127.0.0.1', () => r())
  })
  await new Promise<void>((r, fail) => {
    proxy.on('error', fail) // kept for the relay's life
    proxy.listen(0, '127.0.0.1', () => r())
  })
  fake.proxyAddress = `127.0.0.1:${(proxy.address() as AddressInfo).port}`
  const { port } = server.address() as AddressInfo
  fake.rest = `http://127.0.0.1:${port}/v1`
  fake.graphql = `http://127.0.0.1:${port}/graphql`
  return fake
}

export function fakePod(o: Partial<FakePod> & { id: string }): FakePod {
  return {
    name: o.id,
    desiredStatus: 'RUNNING',
    costPerHr: 0.69,
    gpu: { displayName: 'RTX 4090', count: 1 },
    publicIp: '127.0.0.1',
    portMappings: { '22': 22 },
    podHostId: `${o.id}-64410f3a`,
    lastStartedAt: '2026-12-01T10:00:00.000Z',
    ...o
  }
}
