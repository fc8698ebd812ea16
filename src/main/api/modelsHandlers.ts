// The handlers of the models methods (resolvers, installed models, workflows,
// catalog), kept apart from the download/target table in handlers.ts.
import type { ApiHandlers } from '../../shared/api'
import type { PodPullCore } from '../core/podpullCore'
import type { TargetModels } from '../models/targetModels'
import { loadCatalog } from '../models/catalog'
import { checkFolder } from '../models/destination'
import { checkWorkflow } from '../models/workflowCheck'
import { parseWorkflow } from '../../shared/workflow/parseWorkflow'
import { UserError } from '../errors'
import type { SourceServices } from './sourceServices'
import { duplicateGroups } from '../models/sameContent'
import { findByHash } from './findByHash'

type ModelsMethods =
  | 'resolveSource'
  | 'previewLink'
  | 'listInstalled'
  | 'deleteModel'
  | 'hashModel'
  | 'listDuplicates'
  | 'keepOne'
  | 'settleKeepOne'
  | 'pendingKeepOnes'
  | 'findByHash'
  | 'checkWorkflow'
  | 'getCatalog'
  | 'destinationFolder'

export function modelsOf(core: PodPullCore, targetId: string): TargetModels {
  const target = core.target(targetId)
  if (!target.models) throw new UserError('unsupported', 'This target cannot list its models.')
  return target.models()
}

export function modelsHandlers(
  core: PodPullCore,
  sources: SourceServices
): Pick<ApiHandlers, ModelsMethods> {
  return {
    resolveSource: async ({ input }) => {
      if (!sources.resolve)
        throw new UserError('unsupported', 'Resolving links is not available here.')
      return sources.resolve(input)
    },
    previewLink: async ({ input }) => {
      if (!sources.previewLink)
        throw new UserError('unsupported', 'Link previews are not available here.')
      return sources.previewLink(input)
    },
    listInstalled: async ({ targetId }) => modelsOf(core, targetId).installed(),
    deleteModel: async ({ targetId, path }) => modelsOf(core, targetId).remove(path),
    hashModel: async ({ targetId, path }) => ({
      sha256: await modelsOf(core, targetId).sha256(path)
    }),
    listDuplicates: async ({ targetId }) =>
      duplicateGroups((await modelsOf(core, targetId).installed()).models),
    keepOne: async ({ targetId, sha256, keep }) => modelsOf(core, targetId).keepOne(sha256, keep),
    settleKeepOne: async ({ targetId, op, undo }) =>
      modelsOf(core, targetId).settleKeepOne(op, undo),
    pendingKeepOnes: async ({ targetId }) => modelsOf(core, targetId).pendingKeepOnes(),
    findByHash: async ({ hash, targetId, civitai }) =>
      findByHash(core, sources, { hash, targetId, civitai }),
    checkWorkflow: async ({ targetId, workflow }) => {
      let parsed
      try {
        parsed = parseWorkflow(workflow)
      } catch (err) {
        throw new UserError('bad-workflow', (err as Error).message)
      }
      const installed = await modelsOf(core, targetId).installed()
      return checkWorkflow(parsed, installed, loadCatalog())
    },
    getCatalog: async () => loadCatalog(),
    destinationFolder: async ({ targetId, folder }) => {
      checkFolder(folder) // a clear unsafe-path error, before any target is asked
      return modelsOf(core, targetId).directoryFor(folder)
    }
  }
}
