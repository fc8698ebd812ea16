// A loopback fake of RunPod's REST (`/v1/pods`, start, stop) and GraphQL
// (`myself { pods { … } }`) APIs, with the response shapes of RunPod's public
// docs. Tests set pods, flip faults (bad key, rate limit, API down, REST
// without ports so GraphQL must fill them in) and read the request log.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakePod {
  id: string
  name: string
  desiredStatus: 'RUNNING' | 'EXITED' | 'TERMINATED'
  costPerHr: number
  gpu: { displayName: string; count: number }
  publicIp: string | null
  portMappings: Record<string, number> | null
  podHostId: string
  lastStartedAt: string
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
  requests: { method: string; path: string; authorization: string | undefined }[]
  close(): Promise<void>
}

function restPod(p: FakePod, withSsh: boolean): Record<string, unknown> {
  const base = {
    id: p.id,
    name: p.name,
    desiredStatus: p.desiredStatus,
    costPerHr: String(p.costPerHr),
    adjustedCostPerHr: p.costPerHr,
    gpu: { id: p.gpu.displayName, ...p.gpu },
    image: 'runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04',
    lastStartedAt: p.lastStartedAt,
    interruptible: false,
    locked: false
  }
  if (!withSsh) return base
  return {
    ...base,
    publicIp: p.publicIp,
    portMappings: p.portMappings ?? {},
    machine: { podHostId: p.podHostId, gpuTypeId: p.gpu.displayName }
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
    close: () => new Promise((r) => server.close(() => r()))
  }
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x')
      fake.requests.push({
        method: req.method ?? '',
        path: url.pathname,
        authorization: req.headers.authorization
      })
      const text = await body(req)
      const send = (status: number, json: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(json))
      }
      if (fake.fault === 'down') return send(503, { error: 'Service Unavailable' })
      if (fake.fault === 'rate') return send(429, { error: 'Too Many Requests' })
      if (req.headers.authorization !== `Bearer ${fake.key}`)
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
  await new Promise<void>((r, fail) => {
    server.on('error', fail) // kept for the server's life
    server.listen(0, '127.0.0.1', () => r())
  })
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
