// Civitai links → a model version's files. Model pages (/models/ID,
// ?modelVersionId=V), download links (/api/download/models/V) and AIR URNs
// (urn:air:sdxl:lora:civitai:MODEL@VERSION) all lead to one version's
// metadata from the public REST API: names, sizes, SHA256, type, base model.
import { UserError } from '../errors'
import { civitaiEndpoint, endpointUrl, isCivitaiUrl } from './endpoints'
import { folderForCivitaiType, suggestFolder } from '../models/folders'
import { sanitizeFilename } from '../models/fileNames'
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

interface CivFile {
  id?: number
  name: string
  sizeKB?: number
  type?: string
  primary?: boolean
  metadata?: { fp?: string | null; size?: string | null; format?: string | null }
  hashes?: Record<string, string>
  downloadUrl?: string
}
interface CivVersion {
  id: number
  modelId?: number
  name?: string
  baseModel?: string
  availability?: string
  earlyAccessEndsAt?: string | null
  model?: { name?: string; type?: string }
  files?: CivFile[]
  downloadUrl?: string
}
interface CivModel {
  id: number
  name?: string
  type?: string
  modelVersions?: CivVersion[]
}

export async function resolveCivitai(input: string, opts: ResolveOptions): Promise<Resolution> {
  const ref = parseCivitai(input, opts.env)
  if (!ref)
    throw new UserError('bad-request', `${input.slice(0, 200)} is not a Civitai model link or AIR.`)
  const { version, model } = await fetchVersion(ref, opts)
  const type = version.model?.type ?? model?.type ?? null
  const files = (version.files ?? []).map((f) => civFile(f, version, type, opts))
  if (!files.length) throw new UserError('not-found', `Civitai version ${version.id} has no files.`)
  const selected = pickFile(version.files ?? [], ref.query)
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
  await checkAccess(res, version, opts)
  return res
}

async function fetchVersion(
  ref: CivitaiRef,
  opts: ResolveOptions
): Promise<{ version: CivVersion; model?: CivModel }> {
  const ep = civitaiEndpoint(opts.env)
  if (ref.versionId !== undefined) {
    const a = await fetchOnce(endpointUrl(ep, `/api/v1/model-versions/${ref.versionId}`), opts)
    apiError(a.status, `version ${ref.versionId}`)
    return { version: parseJson<CivVersion>(a, 'Civitai') }
  }
  const a = await fetchOnce(endpointUrl(ep, `/api/v1/models/${ref.modelId}`), opts)
  apiError(a.status, `model ${ref.modelId}`)
  const model = parseJson<CivModel>(a, 'Civitai')
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
  const fallback = `/api/download/models/${v.id}`
  // A public link is fetched from the configured endpoint (a mirror, a test server).
  const given = f.downloadUrl && URL.canParse(f.downloadUrl) ? new URL(f.downloadUrl) : undefined
  const url = endpointUrl(
    civitaiEndpoint(opts.env),
    given ? `${given.pathname}${given.search}` : fallback
  )
  const isVae = /vae/i.test(f.type ?? '')
  return {
    url,
    filename,
    size: typeof f.sizeKB === 'number' ? Math.round(f.sizeKB * 1024) : null,
    sha256: sha && /^[0-9a-f]{64}$/i.test(sha) ? sha.toLowerCase() : null,
    suggestedFolder: isVae
      ? 'vae'
      : (folderForCivitaiType(type ?? undefined) ?? suggestFolder(filename)),
    label: label(f),
    primary: Boolean(f.primary)
  }
}

/** The file a download link's query names, else the primary, else the first. */
function pickFile(files: CivFile[], q?: URLSearchParams): number {
  if (q && [...q.keys()].some((k) => ['type', 'format', 'size', 'fp'].includes(k))) {
    const i = files.findIndex(
      (f) =>
        (!q.get('type') || f.type === q.get('type')) &&
        (!q.get('format') || f.metadata?.format === q.get('format')) &&
        (!q.get('size') || f.metadata?.size === q.get('size')) &&
        (!q.get('fp') || f.metadata?.fp === q.get('fp'))
    )
    if (i >= 0) return i
  }
  const p = files.findIndex((f) => f.primary)
  return p >= 0 ? p : 0
}

/** One ranged request on the chosen file: a login wall or an early-access
 *  refusal is said now, with its fix, not after the download has started. */
async function checkAccess(res: Resolution, v: CivVersion, opts: ResolveOptions): Promise<void> {
  const file = res.files[res.selected]!
  const early =
    v.availability === 'EarlyAccess' ||
    (v.earlyAccessEndsAt ? Date.parse(v.earlyAccessEndsAt) > Date.now() : false)
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
