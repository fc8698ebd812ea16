// Hugging Face links → files. File links (/resolve/, /blob/, hf.co short
// links) are looked up with one HEAD that does not follow the redirect to the
// CDN: X-Linked-Size and X-Linked-Etag (an LFS/Xet file's sha256) come from
// the Hub itself. Repo links list the repo's files (tree API) for a picker.
import { UserError } from '../errors'
import { HF_COMMIT } from '../../shared/modelSet'
import { endpointUrl, hfEndpoint, isHfUrl } from './endpoints'
import { folderFromPath, suggestFolder } from '../models/folders'
import { sanitizeFilename } from '../models/fileNames'
import { hfModelInfo, hfTree, plausibleSize, type HfInfo, type HfTreeEntry } from './hubJson'
import {
  fetchOnce,
  parseJson,
  type Resolution,
  type ResolvedFile,
  type ResolveOptions
} from './resolution'

export interface HfRef {
  /** "org/name" (datasets: "datasets/org/name"). */
  repo: string
  revision: string
  /** File path in the repo; "" for a whole repo (or a folder of it with `folder`). */
  path: string
  folder: string
}

const MODEL_FILE = /\.(safetensors|sft|ckpt|pt|pth|bin|gguf|onnx)$/i
const NOT_REPO = new Set(['api', 'spaces', 'docs', 'blog', 'models', 'settings', 'login', 'join'])

/** Parses a Hugging Face URL; undefined when it is not one. */
export function parseHfUrl(input: string, env?: NodeJS.ProcessEnv): HfRef | undefined {
  const u = URL.canParse(input) ? new URL(input) : undefined
  if (!u || !isHfUrl(u, env)) return undefined
  const prefix = hfEndpoint(env).pathname.replace(/\/+$/, '')
  let path = u.pathname
  if (u.host === hfEndpoint(env).host && prefix && path.startsWith(prefix))
    path = path.slice(prefix.length)
  const parts = path.split('/').filter(Boolean).map(decodePart)
  const ds = parts[0] === 'datasets' ? 1 : 0
  const [org, name, verb, rev, ...rest] = parts.slice(ds)
  if (!org || !name || NOT_REPO.has(org)) return undefined
  const repo = `${ds ? 'datasets/' : ''}${org}/${name}`
  if ((verb === 'resolve' || verb === 'blob') && rev && rest.length)
    return { repo, revision: rev, path: rest.join('/'), folder: '' }
  if (verb === 'tree' && rev) return { repo, revision: rev, path: '', folder: rest.join('/') }
  if (!verb) return { repo, revision: 'main', path: '', folder: '' }
  return undefined
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    throw new UserError(
      'bad-request',
      'That Hugging Face link has a broken %-escape in its path: copy the link again.'
    )
  }
}

const enc = (s: string): string => s.split('/').map(encodeURIComponent).join('/')

export function hfFileUrl(ref: HfRef, path: string, env?: NodeJS.ProcessEnv): string {
  return endpointUrl(hfEndpoint(env), `/${ref.repo}/resolve/${enc(ref.revision)}/${enc(path)}`)
}

export function hfRepoPage(ref: HfRef): string {
  return `https://huggingface.co/${ref.repo}`
}

export async function resolveHf(input: string, opts: ResolveOptions): Promise<Resolution> {
  const ref = parseHfUrl(input, opts.env)
  if (!ref)
    throw new UserError(
      'bad-request',
      `${input.slice(0, 200)} is not a Hugging Face file or repo link.`
    )
  const base = {
    input,
    source: 'huggingface' as const,
    title: ref.repo,
    page: hfRepoPage(ref),
    modelType: null,
    baseModel: null,
    warning: null
  }
  if (ref.path) return { ...base, files: [await headFile(ref, opts)], selected: 0 }
  const files = await listRepo(ref, opts)
  return { ...base, files, selected: files.length === 1 ? 0 : -1 }
}

export function fileOf(
  ref: HfRef,
  path: string,
  size: number | null,
  sha256: string | null,
  env?: NodeJS.ProcessEnv
): ResolvedFile {
  const filename = sanitizeFilename(path.split('/').pop() ?? path)
  const url = hfFileUrl(ref, path, env)
  return {
    url,
    filename,
    size,
    sha256,
    suggestedFolder:
      folderFromPath(path) ??
      suggestFolder(filename, { url: `https://huggingface.co/${ref.repo}/${path}` }),
    label: path,
    primary: false
  }
}

async function headFile(ref: HfRef, opts: ResolveOptions): Promise<ResolvedFile> {
  let url = hfFileUrl(ref, ref.path, opts.env)
  for (let hop = 0; hop < 5; hop++) {
    const a = await fetchOnce(url, opts, 'HEAD')
    hfError(a.status, a.headers, ref)
    const linkedSize = plausibleSize(a.headers['x-linked-size'])
    const etag = (a.headers['x-linked-etag'] ?? '').replace(/^W\//, '').replace(/"/g, '')
    const sha256 = /^[0-9a-f]{64}$/i.test(etag) ? etag.toLowerCase() : null
    if (a.status >= 300 && a.status < 400) {
      const loc = a.headers.location
      if (!loc) throw new UserError('http', `Hugging Face answered ${a.status} without a location.`)
      const next = new URL(loc, url)
      // A redirect to the CDN: the Hub already said what it needs to.
      if (linkedSize) return fileOf(ref, ref.path, linkedSize, sha256, opts.env)
      if (next.host !== new URL(url).host) return fileOf(ref, ref.path, null, sha256, opts.env)
      url = next.toString() // a renamed repo or the resolve cache: same host, ask again
      continue
    }
    const size = linkedSize || plausibleSize(a.headers['content-length'])
    return fileOf(ref, ref.path, size, sha256, opts.env)
  }
  throw new UserError('http', 'Too many redirects from Hugging Face.')
}

async function listRepo(ref: HfRef, opts: ResolveOptions): Promise<ResolvedFile[]> {
  const ep = hfEndpoint(opts.env)
  const kind = ref.repo.startsWith('datasets/') ? 'datasets' : 'models'
  const id = ref.repo.replace(/^datasets\//, '')
  let next: string | undefined = endpointUrl(
    ep,
    `/api/${kind}/${id}/tree/${enc(ref.revision)}${ref.folder ? `/${enc(ref.folder)}` : ''}?recursive=true`
  )
  const entries: HfTreeEntry[] = []
  for (let page = 0; next && page < 50; page++) {
    const a = await fetchOnce(next, opts)
    hfError(a.status, a.headers, ref)
    const list = hfTree(
      parseJson<unknown>(a, 'The Hugging Face file list'),
      'The Hugging Face file list of ' + ref.repo
    )
    entries.push(...list)
    next = /<([^>]+)>;\s*rel="next"/.exec(a.headers.link ?? '')?.[1]
  }
  const files = entries.filter((e) => e.type === 'file' && MODEL_FILE.test(e.path))
  if (!files.length)
    throw new UserError(
      'not-found',
      `${ref.repo} has no model files (.safetensors, .gguf, .ckpt, …) to download.`
    )
  return files.map((e) => {
    const sha = e.lfs?.oid && /^[0-9a-f]{64}$/i.test(e.lfs.oid) ? e.lfs.oid.toLowerCase() : null
    return fileOf(ref, e.path, e.lfs?.size ?? e.size ?? null, sha, opts.env)
  })
}

/** The commit a branch or tag of a repo points at now (the Hub's revision API),
 *  so a set written today fetches the same bytes next month. */
export async function hfCommitOf(
  repo: string,
  revision: string,
  opts: ResolveOptions
): Promise<string> {
  if (HF_COMMIT.test(revision)) return revision
  const ref: HfRef = { repo, revision, path: '', folder: '' }
  const kind = repo.startsWith('datasets/') ? 'datasets' : 'models'
  const id = repo.replace(/^datasets\//, '')
  const url = endpointUrl(
    hfEndpoint(opts.env),
    `/api/${kind}/${id}/revision/${encodeURIComponent(revision)}`
  )
  const a = await fetchOnce(url, opts)
  hfError(a.status, a.headers, ref)
  const sha = (parseJson<{ sha?: unknown }>(a, 'The Hugging Face revision') ?? {}).sha
  if (typeof sha !== 'string' || !HF_COMMIT.test(sha))
    throw new UserError('http', `Hugging Face did not say which commit ${repo}@${revision} is.`)
  return sha
}

/** The repo's card data, gating and file list at the link's revision (the
 *  model-info API; public for gated repos too, which is how their pages list files). */
export async function hfRepoInfo(ref: HfRef, opts: ResolveOptions): Promise<HfInfo> {
  const kind = ref.repo.startsWith('datasets/') ? 'datasets' : 'models'
  const id = ref.repo.replace(/^datasets\//, '')
  const url = endpointUrl(
    hfEndpoint(opts.env),
    `/api/${kind}/${id}/revision/${encodeURIComponent(ref.revision)}`,
    '?blobs=true'
  )
  const a = await fetchOnce(url, opts)
  hfError(a.status, a.headers, ref)
  return hfModelInfo(
    parseJson<unknown>(a, 'The Hugging Face model info'),
    `${ref.repo}'s model info`
  )
}

/** The Hub's own error codes (X-Error-Code) → what the user should do. */
function hfError(status: number, h: Record<string, string | undefined>, ref: HfRef): void {
  if (status < 400) return
  const code = h['x-error-code']
  const page = hfRepoPage(ref)
  if (code === 'GatedRepo' || (status === 403 && code !== 'RepoNotFound'))
    throw new UserError(
      'auth',
      `${ref.repo} is gated: accept the licence at ${page} and set a Hugging Face token (HF_TOKEN, or Settings → Tokens).`
    )
  if (code === 'RepoNotFound' || status === 401)
    throw new UserError(
      'auth',
      `${ref.repo} was not found, or it is private: check the link, or set a Hugging Face token that can read it (HF_TOKEN, or Settings → Tokens).`
    )
  if (code === 'RevisionNotFound')
    throw new UserError('not-found', `${ref.repo} has no revision "${ref.revision}".`)
  if (code === 'EntryNotFound' || status === 404)
    throw new UserError(
      'not-found',
      `${ref.path || ref.folder || 'That path'} was not found in ${ref.repo} (revision ${ref.revision}).`
    )
  throw new UserError(
    'http',
    `Hugging Face answered ${status}${h['x-error-message'] ? `: ${h['x-error-message']}` : '.'}`
  )
}
