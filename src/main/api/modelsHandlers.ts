// The handlers of issue 10's methods (resolvers, installed models, workflows,
// catalog), kept apart from the download/target table in handlers.ts.
import type { ApiHandlers } from '../../shared/api'
import type { PodPullCore } from '../core/podpullCore'
import { UserError } from '../targets/target'
import type { SourceServices } from './sourceServices'

type ModelsMethods = 'resolveSource'

export function modelsHandlers(
  _core: PodPullCore,
  sources: SourceServices
): Pick<ApiHandlers, ModelsMethods> {
  return {
    resolveSource: async ({ input }) => {
      if (!sources.resolve)
        throw new UserError('unsupported', 'Resolving links is not available here.')
      return sources.resolve(input)
    }
  }
}
