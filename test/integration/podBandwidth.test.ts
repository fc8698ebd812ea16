// A pod target's bandwidth cap, set from the app over a real sshd: the helper's
// running worker takes it up (its status entry shows the cap it runs at), the
// card shows the cap in force, and lifting it lets the download finish.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { createApp } from '../../src/main/app'
import { memoryTokenStore } from '../../src/main/core/tokenStore'
import { createNodeStore } from '../../src/main/settings/createStore'
import { limitsFileBody, limitsFilePath } from '../../src/main/targets/limitsFile'
import { assertBuilt, runCli } from '../support/cli'
import { newStore, podTarget, usePodHarness } from '../support/podTarget'
import { waitFor } from '../support/wait'

const MiB = 1 << 20
/** So slow that the rest of the file could not arrive while the test runs. */
const CRAWL = 20_000
const pod = usePodHarness()

const capOf = (ws: string, path: string): number | null | undefined => {
  const status = JSON.parse(readFileSync(join(ws, '.download_status.json'), 'utf8'))
  return (status[path] as { bandwidth_cap?: number | null } | undefined)?.bandwidth_cap
}

it('caps the running download through the helper, shows it, and lifts it', async () => {
  const w = pod.workspace()
  const t = podTarget(pod.sshd, w.store, { ws: w.ws, comfyui: w.comfyui })
  pod.targets.push(t)
  await t.open()
  const f = pod.server.addFile('/bw/pod.safetensors', { size: 32 * MiB, holdAt: MiB })
  const { id, path } = await t.start({ url: f.url, folder: 'loras', connections: 4 })
  await waitFor(() => t.downloads().find((r) => r.id === id)?.downloaded ?? 0, 'at the gate', {
    until: (n) => n >= MiB
  })

  await t.setBandwidth({ maxSpeed: CRAWL, schedule: [] })
  expect(t.info().bandwidth).toEqual({ text: '20.0 KB/s', bytesPerSec: CRAWL })
  await waitFor(() => capOf(w.ws, path), 'the worker running at the cap', {
    until: (c) => c === CRAWL
  })

  pod.server.setFaults(f.path, { holdAt: undefined })
  await t.setBandwidth({ maxSpeed: null, schedule: [] })
  expect(t.info().bandwidth).toBeNull()
  await waitFor(() => t.downloads().find((r) => r.id === id)?.state, 'completed', {
    until: (s) => s === 'completed',
    ms: 60_000
  })
})

it('takes up limits another process set on the pod, and writes its own later ones there', async () => {
  const w = pod.workspace()
  const app = podTarget(pod.sshd, w.store, { ws: w.ws, comfyui: w.comfyui })
  // Another process (a CLI in a terminal, another machine) with its own view of the target.
  const own = { ...newStore(), knownHosts: { ...w.store.knownHosts } }
  const cli = podTarget(pod.sshd, own, { ws: w.ws, comfyui: w.comfyui })
  pod.targets.push(app, cli)
  await app.open()
  await cli.open()
  expect(app.info().bandwidth).toBeNull()

  const night = { from: '01:00', to: '07:00', maxSpeed: null }
  await cli.setBandwidth({ maxSpeed: 5e6, schedule: [night], timeZone: 'Asia/Tokyo' })
  // The app's card and dialog follow the pod's file, without a restart.
  await waitFor(() => app.info().config.bandwidth, "the CLI's limits on the app's card", {
    until: (b) => b?.maxSpeed === 5e6
  })
  expect(app.info().config.bandwidth).toEqual({
    maxSpeed: 5e6,
    schedule: [night],
    timeZone: 'Asia/Tokyo'
  })
  // Tokyo's night is unlimited, its day 5 MB/s: either is right, by the clock.
  expect(app.info().bandwidth?.text).toMatch(/^(5\.0 MB\/s until 01:00|unlimited until 07:00)$/)

  // Set later in the app: the pod's file and the other process follow.
  await app.setBandwidth({ maxSpeed: 2e6, schedule: [] })
  const onPod = () => JSON.parse(readFileSync(join(w.ws, '.podpull', 'limits.json'), 'utf8'))
  expect(onPod()).toMatchObject({ max_speed: 2e6, schedule: [] })
  await waitFor(() => cli.info().bandwidth?.text, "the app's cap in the other process", {
    until: (t) => t === '2.0 MB/s'
  })
  expect(app.info().bandwidth?.text).toBe('2.0 MB/s')
})

it('limits set while the pod was away, then a restart: the newer ones reach the pod; from a terminal, at once', async () => {
  assertBuilt()
  const w = pod.workspace()
  const home = join(w.root, 'home')
  const limits = limitsFilePath(w.ws)
  const onPod = (): { max_speed?: number | null } => {
    try {
      return JSON.parse(readFileSync(limits, 'utf8'))
    } catch {
      return {} // not there yet
    }
  }
  // The pod holds limits written there an hour ago; the app knows the target.
  mkdirSync(join(w.ws, '.podpull'), { recursive: true })
  const hourAgo = Date.now() - 3600_000
  writeFileSync(limits, JSON.stringify(limitsFileBody({ maxSpeed: 5e6, schedule: [] }, hourAgo)))
  const store = createNodeStore(home)
  store.set('knownHosts', w.store.knownHosts)
  const { host, port, user, keyPath } = pod.sshd
  store.set('targets', [
    {
      id: 'pod1',
      name: 'pod',
      config: { kind: 'ssh', host, port, user, keyPath, workspace: w.ws, comfyui: w.comfyui }
    }
  ])

  // Set from a terminal while the pod is down; that process ends.
  await pod.sshd.stop()
  const set = await runCli(['targets', 'set', 'pod', '--max-speed', '2MB'], { PODPULL_HOME: home })
  expect(set.code, set.stderr).toBe(0)
  expect(set.stdout).toContain('"pod" is not connected: they reach it when PodPull next connects')
  expect(onPod().max_speed).toBe(5e6)

  // The pod is back and the app starts: its saved limits are newer than the
  // pod's file, so they are written there, and the card keeps them.
  await pod.sshd.start()
  const app = await createApp({
    store: createNodeStore(home),
    host: 'headless',
    tokens: memoryTokenStore({}),
    home: null
  })
  try {
    const card = () => app.core.targetInfos()[0]
    await waitFor(
      () => ({ file: onPod().max_speed, card: card()?.config.bandwidth?.maxSpeed }),
      'the newer limits on the pod, or the older ones taken up',
      { until: (v) => v.file === 2e6 || v.card === 5e6 }
    )
    expect(onPod().max_speed).toBe(2e6)
    expect(card()?.bandwidth?.text).toBe('2.0 MB/s')
    expect(createNodeStore(home).get('targets')[0]?.config.bandwidth?.maxSpeed).toBe(2e6)

    // Set from a terminal while the pod is up: written there, and the app follows.
    const again = await runCli(['targets', 'set', 'pod', '--max-speed', '3MB'], {
      PODPULL_HOME: home
    })
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).not.toContain('not connected')
    expect(onPod().max_speed).toBe(3e6)
    await waitFor(() => card()?.bandwidth?.text, "the terminal's cap on the app's card", {
      until: (t) => t === '3.0 MB/s'
    })
  } finally {
    await app.dispose()
  }
})
