// Shared set-up for PodTarget tests: a pod workspace in a temp dir, reached
// over the real sshd harness, with a store-like cache and known-hosts map.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_SETTINGS, type DownloadRecord, type Settings } from '../../src/shared/types'
import type { SshdHarness } from '../harness/sshd'
import { PodTarget, type PodTargetDeps } from '../../src/main/targets/podTarget'

export interface FakeStore {
  knownHosts: Record<string, string>
  cache: DownloadRecord[] | undefined
  lastSeen: number | null
}

export function newStore(): FakeStore {
  return { knownHosts: {}, cache: undefined, lastSeen: null }
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
    acceptHostKey: o.acceptHostKey,
    cache: {
      load: () => store.cache,
      save: (records) => {
        store.cache = records
        store.lastSeen = Date.now()
      },
      lastSeen: () => store.lastSeen
    },
    connection: { agent: '', backoffInitialMs: 200, backoffMaxMs: 1000 }
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

/** Kills every helper worker still running for this workspace (test clean-up). */
export function killWorkers(ws: string): void {
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

export function removeWorkspace(root: string): void {
  rmSync(root, { recursive: true, force: true })
}

export async function waitFor<T>(
  get: () => T | undefined | false | null,
  what: string,
  ms = 20_000
): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = get()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
