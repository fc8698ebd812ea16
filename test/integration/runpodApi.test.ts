// The RunPod account client against a loopback fake of RunPod's REST and
// GraphQL APIs: pods with status, GPU, cost and SSH route (direct TCP when a
// public port maps 22, else the proxy), start / stop, and one clear sentence
// for a bad key, a rate limit or the API being down — never with the key in it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RunpodApi } from '../../src/main/runpod/runpodApi'
import { fakePod, startFakeRunpod, type FakeRunpod } from '../harness/runpodApi'

let fake: FakeRunpod
const api = (key = fake.key): RunpodApi =>
  new RunpodApi({ apiKey: key, rest: fake.rest, graphql: fake.graphql, proxyHost: 'ssh.runpod.io' })

beforeAll(async () => {
  fake = await startFakeRunpod()
})
afterAll(() => fake.close())
beforeEach(() => {
  fake.fault = 'none'
  fake.restWithoutSsh = false
  fake.requests.length = 0
  fake.pods = [
    fakePod({ id: 'abc123', name: 'flux', publicIp: '203.0.113.7', portMappings: { '22': 40122 } }),
    fakePod({ id: 'def456', name: 'proxy-only', publicIp: null, portMappings: {} }),
    fakePod({ id: 'ghi789', name: 'stopped', desiredStatus: 'EXITED', costPerHr: 0.34 })
  ]
})

describe('listing pods', () => {
  it('gives name, status, GPU, cost and how to reach each pod', async () => {
    const pods = await api().listPods()
    expect(pods).toEqual([
      expect.objectContaining({
        id: 'abc123',
        name: 'flux',
        status: 'RUNNING',
        gpu: 'RTX 4090',
        costPerHr: 0.69,
        ssh: { via: 'direct', host: '203.0.113.7', port: 40122, user: 'root' }
      }),
      expect.objectContaining({
        id: 'def456',
        ssh: { via: 'proxy', host: 'ssh.runpod.io', port: 22, user: 'def456-64410f3a' }
      }),
      expect.objectContaining({ id: 'ghi789', status: 'EXITED', costPerHr: 0.34, ssh: null })
    ])
    expect(fake.requests.every((r) => r.authorization === `Bearer ${fake.key}`)).toBe(true)
    expect(fake.requests.some((r) => r.path === '/graphql')).toBe(false)
  })

  it('asks GraphQL for the SSH ports and proxy id when REST leaves them out', async () => {
    fake.restWithoutSsh = true
    const pods = await api().listPods()
    expect(pods.find((p) => p.id === 'abc123')?.ssh).toEqual({
      via: 'direct',
      host: '203.0.113.7',
      port: 40122,
      user: 'root'
    })
    expect(pods.find((p) => p.id === 'def456')?.ssh?.user).toBe('def456-64410f3a')
    expect(fake.requests.some((r) => r.path === '/graphql')).toBe(true)
  })

  it('finds a pod by id or by name, and says when a name is ambiguous or unknown', async () => {
    expect((await api().findPod('flux')).id).toBe('abc123')
    expect((await api().findPod('def456')).name).toBe('proxy-only')
    fake.pods.push(fakePod({ id: 'zzz', name: 'flux' }))
    await expect(api().findPod('flux')).rejects.toThrow(
      /2 RunPod pods are named "flux".*abc123, zzz/
    )
    await expect(api().findPod('nope')).rejects.toMatchObject({ code: 'not-found' })
  })
})

describe('start and stop', () => {
  it('starts and stops a pod; a restart can bring a new port', async () => {
    await api().stopPod('abc123')
    expect((await api().findPod('abc123')).status).toBe('EXITED')
    expect((await api().findPod('abc123')).ssh).toBeNull()
    fake.onStart = (p) => (p.portMappings = { '22': 40999 })
    await api().startPod('abc123')
    expect((await api().findPod('abc123')).ssh?.port).toBe(40999)
    await expect(api().startPod('missing')).rejects.toMatchObject({ code: 'not-found' })
  })
})

describe('errors', () => {
  it('a bad key, a rate limit and the API being down each get one sentence without the key', async () => {
    const wrong = 'rpa_WRONGKEY_do_not_print'
    const bad = await api(wrong)
      .listPods()
      .then(
        () => null,
        (e: Error) => e
      )
    expect(bad).toMatchObject({
      code: 'runpod-key',
      message: expect.stringMatching(/refused the API key/)
    })
    expect(String(bad?.message)).not.toContain(wrong)

    fake.fault = 'rate'
    await expect(api().listPods()).rejects.toMatchObject({
      code: 'runpod-rate',
      message: expect.stringMatching(/rate-limiting/)
    })
    fake.fault = 'down'
    const down = await api()
      .listPods()
      .then(
        () => null,
        (e: Error) => e
      )
    expect(down).toMatchObject({ code: 'runpod-down' })
    expect(String(down?.message)).not.toContain(fake.key)

    const closed = new RunpodApi({ apiKey: fake.key, rest: 'http://127.0.0.1:1/v1' })
    await expect(closed.listPods()).rejects.toMatchObject({
      code: 'runpod-down',
      message: 'The RunPod API at 127.0.0.1:1 cannot be reached.'
    })
    await expect(new RunpodApi({ apiKey: undefined }).listPods()).rejects.toThrow(/RUNPOD_API_KEY/)
  })
})
