// Which Civitai model and version a file is, from its hash: Civitai's public
// GET /api/v1/model-versions/by-hash/{hash} takes a SHA256 or an AutoV2 (its
// first 10 hex digits) and answers the version as /model-versions/{id} does.
import type { CivitaiMatch } from '../../shared/types'
import { UserError } from '../errors'
import { civitaiEndpoint, endpointUrl } from './endpoints'
import { civitaiVersion } from './hubJson'
import { fetchOnce, parseJson, type ResolveOptions } from './resolution'

/** A sha256 (64 hex) or an AutoV2 (10 hex), lower-cased; else a clear error. */
export function parseContentHash(input: string): string {
  const h = input.trim().toLowerCase()
  if (/^[0-9a-f]{64}$/.test(h) || /^[0-9a-f]{10}$/.test(h)) return h
  throw new UserError(
    'bad-request',
    `${input.slice(0, 80)} is not a hash: give a sha256 (64 hex digits) or Civitai's AutoV2 (its first 10).`
  )
}

/** The Civitai version with a file of this hash; null when Civitai knows none. */
export async function civitaiByHash(
  hash: string,
  opts: ResolveOptions
): Promise<CivitaiMatch | null> {
  const h = parseContentHash(hash)
  const a = await fetchOnce(
    endpointUrl(civitaiEndpoint(opts.env), `/api/v1/model-versions/by-hash/${h}`),
    opts
  )
  if (a.status === 404) return null
  if (a.status >= 400) throw new UserError('http', `Civitai answered ${a.status} for hash ${h}.`)
  const v = civitaiVersion(parseJson<unknown>(a, 'Civitai'), `Civitai's answer for hash ${h}`)
  const file = (v.files ?? []).find((f) =>
    Object.entries(f.hashes ?? {}).some(
      ([k, x]) => ['SHA256', 'AUTOV2'].includes(k.toUpperCase()) && String(x).toLowerCase() === h
    )
  )
  return {
    modelId: v.modelId ?? null,
    modelName: v.model?.name ?? null,
    modelType: v.model?.type ?? null,
    versionId: v.id,
    versionName: v.name ?? null,
    baseModel: v.baseModel ?? null,
    fileName: file?.name ?? null,
    page: `https://civitai.com/models/${v.modelId ?? ''}?modelVersionId=${v.id}`
  }
}
