// What the handlers need from URL resolution and ComfyUI discovery, and the
// real implementation. Kept as an interface so the handler table can be
// tested with the real services or with a target-less stand-in.
import type { CivitaiMatch, DownloadPreview, Resolution } from '../../shared/types'
import { civitaiByHash } from '../sources/civitaiByHash'
import type { TokenStore } from '../core/tokenStore'
import { findComfyInstalls, isComfyInstall } from '../models/comfy'
import { previewOf, resolveSource } from '../sources/resolve'
import { authFor, authHint } from '../sources/tokens'

export interface SourceServices {
  preview(url: string): Promise<DownloadPreview>
  isComfyInstall(dir: string): Promise<boolean>
  findComfyInstalls(): Promise<string[]>
  /** What a link (or Civitai AIR) means: its files, sizes, hashes, folders. */
  resolve?(input: string): Promise<Resolution>
  /** Which Civitai model version has a file of this sha256 / AutoV2 (null: none). */
  civitaiByHash?(hash: string): Promise<CivitaiMatch | null>
}

export function createSourceServices(tokens: TokenStore): SourceServices {
  const opts = {
    auth: (u: URL) => authFor(u, (k) => tokens.get(k)),
    authHint: (u: URL) => authHint(u)
  }
  return {
    preview: async (url) => previewOf(await resolveSource(url, opts)),
    resolve: (input) => resolveSource(input, opts),
    civitaiByHash: (hash) => civitaiByHash(hash, opts),
    isComfyInstall,
    findComfyInstalls
  }
}
