// Civitai links → a model version's files. Model pages (/models/ID,
// ?modelVersionId=V), download links (/api/download/models/V) and AIR URNs
// (urn:air:sdxl:lora:civitai:MODEL@VERSION) all lead to one version's
// metadata from the public REST API: names, sizes, SHA256, type, base model.
import { UserError } from '../errors'
import { civitaiEndpoint, endpointUrl, isCivitaiUrl } from './endpoints'
import { folderForCivitaiType, suggestFolder } from '../models/folders'
import { sanitizeFilename } from '../models/fileNames'
import {
  civitaiModel,
  civitaiVersion,
  type CivFile,
  type CivModel,
  type CivVersion
} from './hubJson'
import { probeUrl } from './probe'
import {
  fetchOnce,
  parseJson,
  type Resolution,
  type ResolvedFile,
  type ResolveOptions
} from './resolution'

export interface CivitaiRef {
  modelId?: number
  versionId?: number
  /** Query of a download link (type, format, size, fp): picks the file. */
  query?: URLSearchParams
}

const AIR = /^urn:air:[\w.-]+:[\w.-]+:civitai:(\d+)(?:@(\d+))?$/i

const num = (s: string | null | undefined): number | undefined =>
  s && /^\d{1,12}$/.test(s) ? Number(s) : undefined

export function parseCivitai(input: string, env?: NodeJS.ProcessEnv): CivitaiRef | undefined {
  const air = AIR.exec(input.trim())
  if (air) return { modelId: Number(air[1]), versionId: num(air[2]) }
  const u = URL.canParse(input) ? new URL(input) : undefined
  if (!u || !isCivitaiUrl(u, env)) return undefined
  const dl = /\/api\/download\/models\/(\d+)\/?$/.exec(u.pathname)
  if (dl) return { versionId: Number(dl[1]), query: u.searchParams }
  const page = /\/models\/(\d+)(?:\/[^/]*)?\/?$/.exec(u.pathname)
  if (page)
    return { modelId: Number(page[1]), versionId: num(u.searchParams.get('modelVersionId')) }
  return undefined
}

export async function resolveCivitai(input: string, opts: ResolveOptions): Promise<Resolution> {
  const { res, version } = await describeCivitai(input, opts)
  await checkAccess(res, version, opts)
  return res
}

export interface CivitaiDescription {
  res: Resolution
  version: CivVersion
}

/** What the API says of a link's version, without asking whether the file may be downloaded. */
export async function describeCivitai(
  input: string,
  opts: ResolveOptions
): Promise<CivitaiDescription> {
  const ref = parseCivitai(input, opts.env)
  if (!ref)
    throw new UserError('bad-request', `${input.slice(0, 200)} is not a Civitai model link or AIR.`)
  const { version, model } = await fetchVersion(ref, opts)
  const type = version.model?.type ?? model?.type ?? null
  const files = (version.files ?? []).map((f) => civFile(f, version, type, opts))
  if (!files.length) throw new UserError('not-found', `Civitai version ${version.id} has no files.`)
  const selected = pickFile(version.files ?? [], version.id, ref.query)
  const title = `${version.model?.name ?? model?.name ?? `model ${version.modelId ?? ref.modelId}`} · ${version.name ?? version.id}`
  const res: Resolution = {
    input,
    source: 'civitai',
    title,
    page: `https://civitai.com/models/${version.modelId ?? ref.modelId ?? ''}?modelVersionId=${version.id}`,
    files,
    selected,
    modelType: type,
    baseModel: version.baseModel ?? null,
    warning: null
  }
  return { res, version }
}

async function fetchVersion(
  ref: CivitaiRef,
  opts: ResolveOptions
): Promise<{ version: CivVersion; model?: CivModel }> {
  const ep = civitaiEndpoint(opts.env)
  if (ref.versionId !== undefined) {
    const a = await fetchOnce(endpointUrl(ep, `/api/v1/model-versions/${ref.versionId}`), opts)
    apiError(a.status, `version ${ref.versionId}`)
    const what = `Civitai's answer for version ${ref.versionId}`
    return { version: civitaiVersion(parseJson<unknown>(a, 'Civitai'), what) }
  }
  const a = await fetchOnce(endpointUrl(ep, `/api/v1/models/${ref.modelId}`), opts)
  apiError(a.status, `model ${ref.modelId}`)
  const model = civitaiModel(
    parseJson<unknown>(a, 'Civitai'),
    `Civitai's answer for model ${ref.modelId}`
  )
  const latest = model.modelVersions?.[0]
  if (!latest) throw new UserError('not-found', `Civitai model ${ref.modelId} has no versions.`)
  return {
    version: { ...latest, modelId: model.id, model: { name: model.name, type: model.type } },
    model
  }
}

function apiError(status: number, what: string): void {
  if (status < 400) return
  if (status === 404) throw new UserError('not-found', `Civitai has no ${what}: check the link.`)
  if (status === 401 || status === 403)
    throw new UserError(
      'auth',
      `Civitai refused to show ${what} (${status}): set a Civitai API token (CIVITAI_API_TOKEN, or Settings → Tokens).`
    )
  throw new UserError('http', `Civitai answered ${status} for ${what}.`)
}

function label(f: CivFile): string {
  const m = f.metadata ?? {}
  return [f.type, m.size, m.fp, m.format].filter(Boolean).join(' · ') || f.name
}

function civFile(
  f: CivFile,
  v: CivVersion,
  type: string | null,
  opts: ResolveOptions
): ResolvedFile {
  const filename = sanitizeFilename(f.name)
  const sha = Object.entries(f.hashes ?? {}).find(([k]) => k.toUpperCase() === 'SHA256')?.[1]
  const isVae = /vae/i.test(f.type ?? '')
  return {
    url: downloadUrlOf(f, v, opts),
    filename,
    size: f.sizeKB,
    sha256: typeof sha === 'string' && /^[0-9a-f]{64}$/i.test(sha) ? sha.toLowerCase() : null,
    suggestedFolder: isVae
      ? 'vae'
      : (folderForCivitaiType(type ?? undefined) ?? suggestFolder(filename)),
    label: label(f),
    primary: Boolean(f.primary)
  }
}

/** The file's link on the configured endpoint (a mirror, a test server): only
 *  the path and query of Civitai's `downloadUrl` are taken, set on a parsed
 *  URL of the endpoint, so nothing in it can move the request to another host. */
function downloadUrlOf(f: CivFile, v: CivVersion, opts: ResolveOptions): string {
  const given = f.downloadUrl && URL.canParse(f.downloadUrl) ? new URL(f.downloadUrl) : undefined
  const usable =
    given &&
    (given.protocol === 'https:' || given.protocol === 'http:') &&
    /^\/api\/download\/models\/\d+\/?$/.test(given.pathname)
  const ep = civitaiEndpoint(opts.env)
  return usable
    ? endpointUrl(ep, given.pathname, given.search)
    : endpointUrl(ep, `/api/download/models/${v.id}`)
}

const PICKS = ['type', 'format', 'size', 'fp'] as const
const same = (a: string | null | undefined, b: string): boolean =>
  (a ?? '').toLowerCase() === b.toLowerCase()

/** The file a download link names (`fileId`, or its type, format, size and
 *  fp), else the primary, else the first. A link naming a file the version
 *  does not have is refused rather than answered with another file. */
function pickFile(files: CivFile[], versionId: number, q?: URLSearchParams): number {
  const fileId = q?.get('fileId')
  if (fileId) {
    const i = files.findIndex((f) => f.id !== undefined && String(f.id) === fileId.trim())
    if (i < 0) throw noSuchFile(versionId, `fileId=${fileId}`)
    return i
  }
  const asked = PICKS.filter((k) => q?.get(k))
  if (q && asked.length) {
    // A value the file's metadata leaves out does not contradict the link;
    // the file matching the most of what the link names wins.
    const valueOf = (f: CivFile, k: (typeof PICKS)[number]) =>
      k === 'type' ? f.type : f.metadata?.[k]
    let best = -1
    let bestScore = -1
    files.forEach((f, i) => {
      const vals = asked.map((k) => [valueOf(f, k), q.get(k)!] as const)
      if (vals.some(([v, want]) => v && !same(v, want))) return
      const score = vals.filter(([v]) => v).length
      if (score > bestScore) [best, bestScore] = [i, score]
    })
    if (best < 0) throw noSuchFile(versionId, asked.map((k) => `${k}=${q.get(k)}`).join(', '))
    return best
  }
  const p = files.findIndex((f) => f.primary)
  return p >= 0 ? p : 0
}

const noSuchFile = (versionId: number, what: string): UserError =>
  new UserError(
    'not-found',
    `Civitai version ${versionId} has no file matching ${what.slice(0, 200)}: check the link.`
  )

export const inEarlyAccess = (v: CivVersion): boolean =>
  v.availability === 'EarlyAccess' ||
  (v.earlyAccessEndsAt ? Date.parse(v.earlyAccessEndsAt) > Date.now() : false)

/** One ranged request on the chosen file: a login wall or an early-access
 *  refusal is said now, with its fix, not after the download has started. */
export async function checkAccess(
  res: Resolution,
  v: CivVersion,
  opts: ResolveOptions
): Promise<void> {
  const file = res.files[res.selected]!
  const early = inEarlyAccess(v)
  try {
    await probeUrl(file.url, {
      auth: opts.auth,
      authHint: () => undefined,
      timeoutMs: opts.timeoutMs
    })
  } catch (err) {
    const code = (err as UserError).code
    if (code !== 'auth' && code !== 'html') throw err
    if (early)
      throw new UserError(
        'auth',
        `${res.title} is in early access on Civitai${v.earlyAccessEndsAt ? ` until ${v.earlyAccessEndsAt.slice(0, 10)}` : ''}: only accounts with access can download it. Set the Civitai API token of such an account (CIVITAI_API_TOKEN, or Settings → Tokens).`
      )
    throw new UserError(
      'auth',
      `${res.title} needs a Civitai API token to download: set CIVITAI_API_TOKEN, or add it in Settings → Tokens.`
    )
  }
}
