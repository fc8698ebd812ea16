// Dashboard performance in real Chromium: the BUILT renderer (out/renderer) is
// served by a tiny static server and given a fake `window.podpull` bridge with
// 200 downloads over 3 targets, all updated 4×/s. We measure how long the page
// takes to show all 200 rows, and how many frames drop over 5 s of updates.
// These are measurements: the figures are recorded as annotations (and
// printed); their budgets are asserted only by `npm run bench`.
import { expect, test } from '@playwright/test'
import { createServer, type Server } from 'node:http'
import { existsSync, readFileSync } from 'node:fs'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'

const ROOT = fileURLToPath(new URL('../../out/renderer', import.meta.url))
const ROWS = 200
const MEASURE_MS = 5000

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml'
}

function serveStatic(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const file = join(ROOT, normalize(path === '/' ? 'index.html' : path.slice(1)))
    if (!file.startsWith(ROOT) || !existsSync(file)) return void res.writeHead(404).end()
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' })
    res.end(readFileSync(file))
  })
  return new Promise((ok, fail) => {
    server.on('error', fail) // kept for the server's life
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      ok({ server, url: `http://127.0.0.1:${port}/` })
    })
  })
}

interface Probe {
  restoredAt: number | null
  longTasks: number[]
  frames: number[]
  /** ms from emitting one round of events to the end of Vue's re-render (microtasks). */
  updates: number[]
  measuring: boolean
}

/** The browser globals the in-page functions use (this file is checked without the DOM lib). */
interface PageGlobals {
  podpull?: unknown
  __perf: Probe
  __measureFrames: (ms: number) => Promise<void>
  document: { querySelectorAll(selector: string): { length: number } }
  MutationObserver: new (cb: () => void) => { observe(target: unknown, opts: object): void }
  requestAnimationFrame(cb: (t: number) => void): number
}

/** Runs in the page before the app: a fake preload bridge plus the probes. */
function installFakeBridge(opts: { rows: number }): void {
  const targets = [
    { id: 't-local', name: 'studio', kind: 'local' },
    { id: 't-pod1', name: 'pod-a100', kind: 'ssh' },
    { id: 't-pod2', name: 'pod-h100', kind: 'ssh' }
  ].map((t, i) => ({
    id: t.id,
    name: t.name,
    config:
      t.kind === 'local'
        ? { kind: 'local', comfyui: '/home/me/ComfyUI', workspace: '/home/me' }
        : { kind: 'ssh', host: `10.0.0.${i}`, port: 22, user: 'root', workspace: '/workspace' },
    // One pod offline: its rows are dimmed with "last seen".
    connection: i === 2 ? 'offline' : 'online',
    lastSeen: Date.now() - 5 * 60_000,
    freeBytes: 500e9,
    comfyui: '/workspace/ComfyUI',
    message: null
  }))
  const now = Date.now() / 1000
  const size = 4e9
  const records = Array.from({ length: opts.rows }, (_, i) => {
    const t = targets[i % 3]!
    return {
      id: `job${i}`,
      targetId: t.id,
      path: `/workspace/ComfyUI/models/loras/model-${i}.safetensors`,
      url: `https://example.com/model-${i}.safetensors`,
      folder: 'loras',
      filename: `model-${i}.safetensors`,
      state: 'downloading',
      progress: (i * 7) % 90,
      fileSize: size,
      downloaded: (((i * 7) % 90) / 100) * size,
      speed: 20e6 + i * 1e5,
      eta: 120,
      error: null,
      startTime: now - i,
      timestamp: now,
      sha256: null,
      source: 'huggingface',
      connections: 8,
      attempts: 1,
      rev: 1
    }
  })
  const listeners = new Map<string, Set<(p: unknown) => void>>()
  const on = (name: string) => (cb: (p: unknown) => void) => {
    const set = listeners.get(name) ?? new Set()
    listeners.set(name, set)
    set.add(cb)
    return () => set.delete(cb)
  }
  const emit = (name: string, p: unknown): void => listeners.get(name)?.forEach((cb) => cb(p))
  const settings = {
    concurrency: 3,
    connections: 8,
    retentionHours: 24,
    staleMinutes: 10,
    autoResume: true,
    notifications: true
  }
  const ok = (v: unknown) => async () => v
  const g = globalThis as unknown as PageGlobals
  g.podpull = {
    getSnapshot: async () => ({
      targets,
      downloads: records.map((r) => ({ ...r })),
      settings,
      tokens: { hf: true, civitai: false, editable: false },
      host: 'headless'
    }),
    previewDownload: ok(null),
    startDownload: ok(null),
    pauseDownload: ok(undefined),
    resumeDownload: ok(undefined),
    cancelDownload: ok(undefined),
    retryDownload: ok(undefined),
    removeDownload: ok(undefined),
    clearCompleted: ok({ removed: 0 }),
    openFolder: ok(undefined),
    listModels: ok([]),
    addTarget: ok(null),
    updateTarget: ok(null),
    removeTarget: ok(undefined),
    testConnection: ok({ ok: true, message: 'ok' }),
    findComfyInstalls: ok([]),
    pickFolder: ok(null),
    getSettings: ok(settings),
    setSettings: ok(settings),
    getTokenStatus: ok({ hf: true, civitai: false, editable: false }),
    setToken: ok({ hf: true, civitai: false, editable: false }),
    onDownloadsChanged: on('downloadsChanged'),
    onTargetsChanged: on('targetsChanged'),
    onSettingsChanged: on('settingsChanged'),
    onTokensChanged: on('tokensChanged')
  }

  // 4×/s: every record moves on, one event per target as main sends them.
  setInterval(() => {
    const t0 = performance.now()
    for (const r of records) {
      r.rev++
      r.downloaded = Math.min(size, r.downloaded + r.speed / 4)
      r.progress = (r.downloaded / size) * 100
      r.eta = (size - r.downloaded) / r.speed
      r.speed = 20e6 + Math.random() * 5e6
      r.timestamp = Date.now() / 1000
    }
    for (const t of targets)
      emit('downloadsChanged', {
        targetId: t.id,
        upserts: records.filter((r) => r.targetId === t.id).map((r) => ({ ...r })),
        removed: []
      })
    // Vue patches in a microtask; a timeout runs after it.
    setTimeout(() => g.__perf.measuring && g.__perf.updates.push(performance.now() - t0))
  }, 250)

  // Probes: when all rows are in the DOM, and frame / long-task statistics.
  const probe: Probe = {
    restoredAt: null,
    longTasks: [],
    frames: [],
    updates: [],
    measuring: false
  }
  g.__perf = probe
  new PerformanceObserver((list) => {
    if (probe.measuring) for (const e of list.getEntries()) probe.longTasks.push(e.duration)
    // 'longtask' is a browser entry type that Node's typings do not list.
  }).observe({ type: 'longtask' as string as 'mark', buffered: false })
  const check = (): void => {
    if (probe.restoredAt !== null) return
    if (g.document.querySelectorAll('[data-testid^="download-"][data-state]').length >= opts.rows)
      probe.restoredAt = performance.now()
  }
  new g.MutationObserver(check).observe(g.document, { childList: true, subtree: true })
  g.__measureFrames = (ms: number) =>
    new Promise<void>((done) => {
      probe.measuring = true
      let last = performance.now()
      const end = last + ms
      const tick = (t: number): void => {
        probe.frames.push(t - last)
        last = t
        if (t < end) g.requestAnimationFrame(tick)
        else {
          probe.measuring = false
          done()
        }
      }
      g.requestAnimationFrame(tick)
    })
}

let server: Server
let url: string

test.beforeAll(async () => {
  if (!existsSync(join(ROOT, 'index.html')))
    throw new Error(`The renderer is not built (${ROOT}/index.html): run "npm run build" first.`)
  ;({ server, url } = await serveStatic())
})
test.afterAll(async () => {
  await new Promise((ok) => server?.close(ok))
})

test('200 downloads restore quickly and update 4×/s without dropped frames', async ({ page }) => {
  await page.addInitScript(installFakeBridge, { rows: ROWS })
  await page.goto(url)
  const rows = page.locator('[data-testid^="download-"][data-state]')
  await expect(rows).toHaveCount(ROWS)
  const restoredAt = (): Promise<number | null> =>
    page.evaluate(() => (globalThis as unknown as PageGlobals).__perf.restoredAt)
  const coldRestoreMs = await restoredAt()
  expect(coldRestoreMs).not.toBeNull()
  // A reload (what a user does, and the e2e test's "restored" step) with a warm cache.
  await page.reload()
  await expect(rows).toHaveCount(ROWS)
  const restoreMs = await restoredAt()
  expect(restoreMs).not.toBeNull()

  // Values move: the first row's progress changes within a second.
  const bar = page.getByTestId('download-job0').getByRole('progressbar')
  const first = Number(await bar.getAttribute('aria-valuenow'))
  await expect
    .poll(async () => Number(await bar.getAttribute('aria-valuenow')))
    .toBeGreaterThan(first)

  await page.evaluate(
    (ms) => (globalThis as unknown as PageGlobals).__measureFrames(ms),
    MEASURE_MS
  )
  const stats = await page.evaluate(() => {
    const p = (globalThis as unknown as PageGlobals).__perf
    const sorted = [...p.frames].sort((a, b) => a - b)
    return {
      frames: p.frames.length,
      slowFrames: p.frames.filter((d) => d > 50).length,
      worstFrameMs: Math.round(sorted[sorted.length - 1] ?? 0),
      p95FrameMs: Math.round(sorted[Math.floor(sorted.length * 0.95)] ?? 0),
      updates: p.updates.length,
      updateAvgMs: Math.round((p.updates.reduce((a, b) => a + b, 0) / p.updates.length) * 10) / 10,
      updateMaxMs: Math.round(Math.max(...p.updates)),
      longTasks: p.longTasks.length,
      longTaskMs: Math.round(p.longTasks.reduce((a, b) => a + b, 0))
    }
  })
  const dclMs = await page.evaluate(() => {
    // Runs in the page; this file is typed for Node, so name only what is read.
    const nav = (
      performance.getEntriesByType as unknown as (
        t: string
      ) => { domContentLoadedEventEnd: number }[]
    )('navigation')[0]
    return nav ? Math.round(nav.domContentLoadedEventEnd) : null
  })
  const figures = {
    coldRestoreMs: Math.round(coldRestoreMs!),
    restoreMs: Math.round(restoreMs!),
    domContentLoadedMs: dclMs,
    ...stats
  }
  for (const [k, v] of Object.entries(figures))
    test.info().annotations.push({ type: k, description: String(v) })
  console.log(`dashboard perf (${ROWS} rows, 4 updates/s): ${JSON.stringify(figures)}`)

  // The page kept rendering and kept applying updates while measured.
  expect(stats.frames).toBeGreaterThan(0)
  expect(stats.updates).toBeGreaterThan(0)
  // Budgets are timings: `npm run bench` asserts them on a quiet machine, the
  // test run (under a competing CPU load) only records them.
  if (process.env.PODPULL_PERF_BUDGETS === '1') {
    expect(figures.coldRestoreMs).toBeLessThan(3000)
    expect(figures.restoreMs).toBeLessThan(1500)
    expect(stats.frames).toBeGreaterThan(MEASURE_MS / 100)
    expect(stats.updates).toBeGreaterThanOrEqual(15) // ~4/s for 5 s, all rendered
    expect(stats.slowFrames / stats.frames).toBeLessThan(0.1)
  }
})
