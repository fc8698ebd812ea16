// Shared set-up for PodTarget tests: a pod workspace in a temp dir, reached
// over the real sshd harness, with a store-like cache and known-hosts map.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_SETTINGS, type DownloadRecord, type Settings } from '../../src/shared/types'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { startModelServer, type ModelServer } from '../harness/modelServer'
import { PodTarget, type PodTargetDeps } from '../../src/main/targets/pod/podTarget'
import { memoryOwnJobs, type OwnJobs } from '../../src/main/targets/ownJobs'
import type { PushTuning } from '../../src/main/targets/pod/podPush'
import type { HelperFile } from '../../src/main/ssh/helperUpload'

export interface FakeStore {
  knownHosts: Record<string, string>
  cache: DownloadRecord[] | undefined
  lastSeen: number | null
  /** The jobs "this PodPull" started, shared by every target built on this store. */
  ownJobs: OwnJobs
}

export function newStore(): FakeStore {
  return { knownHosts: {}, cache: undefined, lastSeen: null, ownJobs: memoryOwnJobs() }
}

export function newWorkspace(): { root: string; ws: string; comfyui: string } {
  const root = mkdtempSync(join(tmpdir(), 'podpull-pod-'))
  const ws = join(root, 'workspace')
  const comfyui = join(ws, 'ComfyUI')
  mkdirSync(join(comfyui, 'models'), { recursive: true })
  return { root, ws, comfyui }
}

export function podTarget(
  sshd: SshdHarness,
  store: FakeStore,
  o: {
    ws: string
    comfyui?: string
    acceptHostKey?: string
    settings?: Partial<Settings>
    keyPath?: string | null
    secret?: string
    tokens?: { hf?: string; civitai?: string }
    tokenHosts?: { hf: string[]; civitai: string[] }
    /** The upload byte path's hooks (a gate, a byte count). */
    push?: PushTuning
    /** A helper build of the test's own (one with injected faults). */
    helper?: HelperFile
  }
): PodTarget {
  const deps: PodTargetDeps = {
    settings: () => ({ ...DEFAULT_SETTINGS, ...o.settings }),
    tokens: () => o.tokens ?? {},
    tokenHosts: () => o.tokenHosts ?? { hf: [], civitai: [] },
    knownHosts: {
      get: (k) => store.knownHosts[k],
      set: (k, v) => void (store.knownHosts[k] = v)
    },
    secret: () => o.secret,
    ownJobs: store.ownJobs,
    acceptHostKey: o.acceptHostKey,
    cache: {
      load: () => store.cache,
      save: (records) => {
        store.cache = records
        store.lastSeen = Date.now()
      },
      lastSeen: () => store.lastSeen
    },
    connection: { agent: '', backoffInitialMs: 200, backoffMaxMs: 1000 },
    ...(o.push ? { push: o.push } : {}),
    ...(o.helper ? { helper: o.helper } : {})
  }
  return new PodTarget(
    {
      id: 'pod1',
      name: 'pod',
      config: {
        kind: 'ssh',
        host: sshd.host,
        port: sshd.port,
        user: sshd.user,
        ...(o.keyPath === null ? {} : { keyPath: o.keyPath ?? sshd.keyPath }),
        workspace: o.ws,
        ...(o.comfyui ? { comfyui: o.comfyui } : {})
      }
    },
    deps
  )
}

/** Download workers and fill-pod watchdogs left on a "pod" (a temp dir here). */
export function stopPodProcesses(ws: string): void {
  killWorkers(ws)
  const state = join(ws, '.podpull')
  for (const f of existsSync(state) ? readdirSync(state) : [])
    if (/^fill-watchdog-.*\.pid$/.test(f))
      try {
        process.kill(Number(readFileSync(join(state, f), 'utf8')), 'SIGKILL')
      } catch {
        // already gone
      }
}

/** Kills every helper worker still running for this workspace (test clean-up). */
export function killWorkers(ws: string): void {
  killHasher(ws)
  let status: Record<string, { owner?: { pid?: number } | null }> = {}
  try {
    status = JSON.parse(readFileSync(join(ws, '.download_status.json'), 'utf8'))
  } catch {
    return
  }
  for (const e of Object.values(status)) {
    const pid = e.owner?.pid
    if (typeof pid === 'number') {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
}

/** The pod's background hasher, when one runs (its pid is in .podpull/hashing.json). */
export function killHasher(ws: string): void {
  try {
    const p = JSON.parse(readFileSync(join(ws, '.podpull', 'hashing.json'), 'utf8'))
    if (p.state === 'running') process.kill(p.owner.pid, 'SIGKILL')
  } catch {
    // none, or already gone
  }
}

export function removeWorkspace(root: string): void {
  rmSync(root, { recursive: true, force: true })
}

/** A real sshd and model server for a test file, with the clean-up every pod
 *  test needs: targets closed, helper workers killed, workspaces removed, and
 *  sshd started again when a test left it stopped. */
export interface PodHarness {
  sshd: SshdHarness
  server: ModelServer
  /** Targets to close after each test. */
  targets: PodTarget[]
  /** A fresh pod workspace whose host key is already trusted. */
  workspace(): ReturnType<typeof newWorkspace> & { store: FakeStore }
}

export function usePodHarness(): PodHarness {
  const roots: string[] = []
  const workspaces: string[] = []
  const h: PodHarness = {
    sshd: undefined as unknown as SshdHarness,
    server: undefined as unknown as ModelServer,
    targets: [],
    workspace: () => {
      const w = newWorkspace()
      roots.push(w.root)
      workspaces.push(w.ws)
      const store = newStore()
      store.knownHosts[`127.0.0.1:${h.sshd.port}`] = h.sshd.hostKeyFingerprint
      return { ...w, store }
    }
  }
  beforeAll(async () => {
    ;[h.sshd, h.server] = await Promise.all([startSshd(), startModelServer()])
  })
  afterEach(async () => {
    if (!h.sshd.pid) await h.sshd.start()
    await Promise.all(h.targets.splice(0).map((t) => t.close()))
    workspaces.forEach(killWorkers)
  })
  afterAll(async () => {
    await Promise.all([h.sshd?.close(), h.server?.close()])
    roots.forEach(removeWorkspace)
  })
  return h
}

/** A fresh pod workspace and an opened target on it, closed after the test
 *  (push tests: `push` hooks the upload's byte path). */
export async function openPodTarget(
  h: PodHarness,
  o: { push?: PushTuning; settings?: Partial<Settings> } = {}
): Promise<{ t: PodTarget; ws: string; comfyui: string }> {
  const w = h.workspace()
  const t = podTarget(h.sshd, w.store, { ws: w.ws, comfyui: w.comfyui, ...o })
  h.targets.push(t)
  await t.open()
  return { t, ws: w.ws, comfyui: w.comfyui }
}
