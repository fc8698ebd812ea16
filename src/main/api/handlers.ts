// The one handler table implementing the API contract. Electron IPC, the
// headless WebSocket and the CLI all call these (through dispatch.ts, which
// validates every argument first).
import { dirname } from 'node:path'
import type { ApiHandlers } from '../../shared/api'
import type { LocalTargetConfig, SshTargetConfig, TargetConfig } from '../../shared/types'
import type { PodPullCore } from '../core/podpullCore'
import { UserError } from '../errors'
import {
  BandwidthInputError,
  checkTimeZone,
  localTimeZone,
  parseSchedule,
  parseSpeed,
  type BandwidthLimits
} from '../../shared/bandwidth'
import { normalizeDownloadUrl } from '../sources/sourceUrls'
import { isModelHubLink, withPastedToken } from '../sources/resolve'
import type { SourceServices } from './sourceServices'
import { aboutInfo } from '../core/about'
import { modelsHandlers } from './modelsHandlers'
import { setHandlers } from './setHandlers'
import { pushHandlers } from './pushHandlers'
import { runpodHandlers } from '../runpod/runpodHandlers'

type TargetArgs = Parameters<ApiHandlers['addTarget']>[0]

/** What the user typed → limits, or the one line that says what is wrong with it. */
function bandwidthLimits(maxSpeed: string, schedule: string, timeZone?: string): BandwidthLimits {
  try {
    const zone = timeZone ?? localTimeZone()
    checkTimeZone(zone)
    return { maxSpeed: parseSpeed(maxSpeed), schedule: parseSchedule(schedule), timeZone: zone }
  } catch (err) {
    if (err instanceof BandwidthInputError) throw new UserError('bad-request', err.message)
    throw err
  }
}

function configFrom(input: TargetArgs): TargetConfig {
  if (input.kind === 'local') {
    const config: LocalTargetConfig = {
      kind: 'local',
      comfyui: input.comfyui,
      workspace: input.workspace ?? dirname(input.comfyui)
    }
    return config
  }
  const config: SshTargetConfig = {
    kind: 'ssh',
    host: input.host,
    port: input.port,
    user: input.user,
    workspace: input.workspace,
    ...(input.keyPath ? { keyPath: input.keyPath } : {}),
    ...(input.comfyui ? { comfyui: input.comfyui } : {}),
    ...(input.runpodPodId ? { runpodPodId: input.runpodPodId } : {}),
    ...(input.runpodPodId && input.stopWhenDone ? { stopWhenDone: true } : {})
  }
  return config
}

export function createHandlers(
  core: PodPullCore,
  sources: SourceServices,
  /** Writes the diagnostics archive, returning its path (src/main/diagnostics). */
  diagnostics?: () => Promise<string>
): ApiHandlers {
  const checkLocal = async (config: TargetConfig): Promise<void> => {
    if (config.kind === 'local' && !(await sources.isComfyInstall(config.comfyui))) {
      throw new UserError(
        'not-comfyui',
        `${config.comfyui} does not look like a ComfyUI install: it has no models/ folder.`
      )
    }
  }

  const table: ApiHandlers = {
    getSnapshot: async () => core.snapshot(),

    previewDownload: async ({ url }) => sources.preview(url),

    startDownload: async ({ targetId, folder, url: pasted, ...rest }) => {
      const target = core.target(targetId)
      // A pasted model page (HF "blob", Civitai model page) means its file.
      let url = normalizeDownloadUrl(pasted)
      let chosenFolder = folder
      let filename = rest.filename
      let sha256 = rest.sha256
      // Hugging Face / Civitai links (and any link without a folder) are resolved:
      // the file they mean, fetched from the configured endpoint, in its folder.
      if (!chosenFolder || isModelHubLink(pasted)) {
        const preview = await sources.preview(pasted)
        url = withPastedToken(preview.url, pasted)
        chosenFolder ??= preview.suggestedFolder
        filename ??= preview.filename
        sha256 ??= preview.sha256 ?? undefined
      }
      const started = await target.start({ ...rest, url, filename, sha256, folder: chosenFolder })
      return folder ? started : { ...started, suggestedFolder: chosenFolder }
    },
    pauseDownload: async ({ targetId, id }) => core.target(targetId).pause(id),
    resumeDownload: async ({ targetId, id, url }) => core.target(targetId).resume(id, url),
    cancelDownload: async ({ targetId, id }) => core.target(targetId).cancel(id),
    retryDownload: async ({ targetId, id }) => core.target(targetId).retry(id),
    removeDownload: async ({ targetId, id }) => core.target(targetId).remove(id),
    clearCompleted: async ({ targetId }) => {
      const ids = targetId ? [targetId] : core.targetInfos().map((t) => t.id)
      let removed = 0
      for (const id of ids) removed += await core.target(id).clearCompleted()
      return { removed }
    },
    openFolder: async ({ targetId, id }) => {
      const target = core.target(targetId)
      const record = target.downloads().find((r) => r.id === id)
      if (!record) throw new UserError('not-found', 'That download is no longer listed.')
      if (target.info().config.kind !== 'local') {
        throw new UserError('unsupported', 'Folders on a pod cannot be opened on this computer.')
      }
      if (!core.native) throw new UserError('unsupported', 'Opening folders needs the desktop app.')
      await core.native.openFolder(record.path)
    },
    listModels: async ({ targetId }) => core.target(targetId).listModels(),

    addTarget: async (input) => {
      const config = configFrom(input)
      await checkLocal(config)
      const secret = input.kind === 'ssh' ? input.secret : undefined
      const acceptHostKey = input.kind === 'ssh' ? input.acceptHostKey : undefined
      return core.addTarget(input.name, config, { secret, acceptHostKey })
    },
    updateTarget: async ({ id, patch }) => {
      const stored = core.storedTarget(id)
      const sshOnly = ['host', 'port', 'user', 'keyPath', 'secret', 'acceptHostKey'] as const
      if (stored.config.kind === 'local' && sshOnly.some((k) => patch[k] !== undefined)) {
        throw new UserError('bad-request', 'That setting applies to pods only.')
      }
      if (
        patch.stopWhenDone !== undefined &&
        !(stored.config.kind === 'ssh' && stored.config.runpodPodId)
      )
        throw new UserError(
          'bad-request',
          'Stop-when-done applies to pods imported from RunPod only.'
        )
      if (stored.config.kind === 'local' && patch.comfyui) {
        await checkLocal({ ...stored.config, comfyui: patch.comfyui })
      }
      return core.updateTarget(id, patch)
    },
    removeTarget: async ({ id }) => core.removeTarget(id),
    setBandwidth: async ({ id, maxSpeed, schedule, timeZone }) =>
      core.setBandwidth(id, bandwidthLimits(maxSpeed, schedule, timeZone)),
    testConnection: async (args) => {
      if ('id' in args) return core.target(args.id).test()
      const config = configFrom(args)
      if (config.kind === 'local') {
        const ok = await sources.isComfyInstall(config.comfyui)
        return {
          ok,
          message: ok ? 'ComfyUI install found.' : `${config.comfyui} has no models/ folder.`,
          comfyui: ok ? config.comfyui : null
        }
      }
      const secret = args.kind === 'ssh' ? args.secret : undefined
      const accept = args.kind === 'ssh' ? args.acceptHostKey : undefined
      const target = core.transientTarget(args.name, config, secret, accept)
      try {
        return await target.test()
      } finally {
        core.forgetTransient(target)
        await target.close().catch(() => undefined)
      }
    },
    findComfyInstalls: async () => sources.findComfyInstalls(),
    pickFolder: async ({ title }) => (core.native ? core.native.pickFolder(title) : null),

    getSettings: async () => core.settings(),
    setSettings: async (patch) => core.setSettings(patch),
    getTokenStatus: async () => core.tokenStatus(),
    setToken: async ({ kind, value }) => core.setToken(kind, value),

    // Diagnostics: one archive for a bug report, no secrets.
    saveDiagnostics: async () => {
      if (!diagnostics) throw new UserError('unsupported', 'Diagnostics are not available here.')
      return { path: await diagnostics() }
    },
    getAbout: async () => aboutInfo(),
    trustHostKey: async ({ id, fingerprint }) => core.trustHostKey(id, fingerprint),
    // Models: resolvers, installed models, workflows, catalog
    ...modelsHandlers(core, sources),
    ...setHandlers(
      core,
      (a) => table.startDownload(a),
      (a) => table.pushFile(a)
    ),
    ...pushHandlers(core),
    ...runpodHandlers(core, {
      testConnection: (a) => table.testConnection(a),
      addTarget: (a) => table.addTarget(a)
    })
  }
  return table
}
