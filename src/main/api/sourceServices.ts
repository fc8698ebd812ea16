// What the handlers need from URL resolution and ComfyUI discovery, and the
// real implementation. Kept as an interface so the handler table can be
// tested with the real services or with a target-less stand-in.
import type { CivitaiMatch, DownloadPreview, LinkPreview, Resolution } from '../../shared/types'
import { civitaiByHash } from '../sources/civitaiByHash'
import type { TokenStore } from '../core/tokenStore'
import { findComfyInstalls, isComfyInstall } from '../models/comfy'
import { previewOf, resolveSource } from '../sources/resolve'
import { authFor, authHint } from '../sources/tokens'
import { previewLink } from '../sources/linkPreview'
import { createHubImages, type HubImages } from '../sources/hubImages'

export type { HubImages }

export interface SourceServices {
  preview(url: string): Promise<DownloadPreview>
  isComfyInstall(dir: string): Promise<boolean>
  findComfyInstalls(): Promise<string[]>
  /** What a link (or Civitai AIR) means: its files, sizes, hashes, folders. */
  resolve?(input: string): Promise<Resolution>
  /** Which Civitai model version has a file of this sha256 / AutoV2 (null: none). */
  civitaiByHash?(hash: string): Promise<CivitaiMatch | null>
  /** A hub link described before downloading (images registered for the image route). */
  previewLink?(input: string): Promise<LinkPreview>
}

export interface SourceServicesOptions {
  /** Where preview images are cached (null: nowhere on disk). */
  imageCacheDir: string | null
}

export function createSourceServices(
  tokens: TokenStore,
  o: SourceServicesOptions = { imageCacheDir: null }
): SourceServices & { images: HubImages } {
  const images = createHubImages({ cacheDir: o.imageCacheDir })
  const opts = {
    auth: (u: URL) => authFor(u, (k) => tokens.get(k)),
    authHint: (u: URL) => authHint(u)
  }
  return {
    preview: async (url) => previewOf(await resolveSource(url, opts)),
    resolve: (input) => resolveSource(input, opts),
    civitaiByHash: (hash) => civitaiByHash(hash, opts),
    previewLink: (input) => previewLink(input, opts, images),
    images,
    isComfyInstall,
    findComfyInstalls
  }
}
