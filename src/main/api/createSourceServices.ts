// The real URL resolution and ComfyUI discovery behind the handlers.
import type { TokenStore } from '../core/tokenStore'
import { findComfyInstalls, isComfyInstall } from '../sources/comfy'
import { previewOf, resolveSource } from '../sources/resolve'
import { authFor, authHint } from '../sources/tokens'
import type { SourceServices } from './sourceServices'

export function createSourceServices(tokens: TokenStore): SourceServices {
  const opts = {
    auth: (u: URL) => authFor(u, (k) => tokens.get(k)),
    authHint: (u: URL) => authHint(u)
  }
  return {
    preview: async (url) => previewOf(await resolveSource(url, opts)),
    resolve: (input) => resolveSource(input, opts),
    isComfyInstall,
    findComfyInstalls
  }
}
