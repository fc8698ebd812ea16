// The real URL resolution and ComfyUI discovery behind the handlers.
import type { DownloadPreview } from '../../shared/types'
import type { TokenStore } from '../core/tokenStore'
import { findComfyInstalls, isComfyInstall } from '../sources/comfy'
import { probeUrl } from '../sources/probe'
import { authFor, authHint } from '../sources/tokens'
import { normalizeDownloadUrl } from '../sources/sourceUrls'
import { stripSecrets } from '../sources/urlSafety'
import type { SourceServices } from './sourceServices'

export function createSourceServices(tokens: TokenStore): SourceServices {
  return {
    preview: async (url): Promise<DownloadPreview> => {
      const p = await probeUrl(normalizeDownloadUrl(url), {
        auth: (u) => authFor(u, (k) => tokens.get(k)),
        authHint: (u) => authHint(u)
      })
      return {
        url: stripSecrets(p.url),
        filename: p.filename,
        size: p.size,
        source: p.source,
        suggestedFolder: p.suggestedFolder,
        sha256: p.sha256 ?? null,
        warning: null
      }
    },
    isComfyInstall,
    findComfyInstalls
  }
}
