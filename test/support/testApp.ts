// A real core + handler table on a temp PODPULL_HOME, with targets that keep
// their records in memory (the real targets have their own tests).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EventEmitter } from 'node:events'
import { createHandlers } from '../../src/main/api/handlers'
import { PodPullCore } from '../../src/main/core/podpullCore'
import { envTokenStore } from '../../src/main/core/tokenStore'
import { createNodeStore } from '../../src/main/settings/createStore'
import type { Target, TargetEvents } from '../../src/main/targets/target'
import type { SourceServices } from '../../src/main/api/sourceServices'
import type { DownloadRecord, TargetInfo } from '../../src/shared/types'

export class MemoryTarget extends EventEmitter<TargetEvents> implements Target {
  records: DownloadRecord[] = []
  calls: string[] = []
  constructor(
    private readonly base: Omit<
      TargetInfo,
      'connection' | 'lastSeen' | 'freeBytes' | 'comfyui' | 'message'
    >
  ) {
    super()
  }
  get id() {
    return this.base.id
  }
  info(): TargetInfo {
    return {
      ...this.base,
      connection: 'online',
      lastSeen: Date.now(),
      freeBytes: 1e12,
      comfyui: null,
      message: null
    }
  }
  downloads() {
    return this.records
  }
  async open() {}
  async close() {}
  async start(req: { url: string; folder: string; filename?: string }) {
    this.calls.push(`start ${req.url} ${req.folder} ${req.filename ?? ''}`)
    return {
      id: 'job1',
      outcome: 'started' as const,
      path: `/m/${req.folder}/${req.filename ?? 'x'}`
    }
  }
  async pause(id: string) {
    this.calls.push(`pause ${id}`)
  }
  async resume(id: string) {
    this.calls.push(`resume ${id}`)
  }
  async cancel(id: string) {
    this.calls.push(`cancel ${id}`)
  }
  async retry(id: string) {
    this.calls.push(`retry ${id}`)
  }
  async remove(id: string) {
    this.calls.push(`remove ${id}`)
  }
  async clearCompleted() {
    return 2
  }
  async listModels() {
    return []
  }
  async test() {
    return { ok: true, message: 'ok' }
  }
}

export const fakeSources: SourceServices = {
  preview: async (url) => ({
    url,
    filename: 'model.safetensors',
    size: 10,
    source: 'direct',
    suggestedFolder: 'checkpoints',
    sha256: null,
    warning: null
  }),
  isComfyInstall: async (dir) => !dir.includes('not-comfy'),
  findComfyInstalls: async () => []
}

export async function makeTestApp(env: NodeJS.ProcessEnv = {}) {
  const home = mkdtempSync(join(tmpdir(), 'podpull-home-'))
  const store = createNodeStore(home)
  const targets = new Map<string, MemoryTarget>()
  const core = new PodPullCore({
    store,
    host: 'headless',
    tokens: envTokenStore(env),
    createTarget: (stored) => {
      const t = new MemoryTarget({ id: stored.id, name: stored.name, config: stored.config })
      targets.set(stored.id, t)
      return t
    }
  })
  await core.init()
  const handlers = createHandlers(core, fakeSources)
  return { home, store, core, handlers, targets }
}
