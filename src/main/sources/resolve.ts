// One entry point for every link or AIR a user gives: Hugging Face, Civitai,
// or any other URL (name and size from a ranged GET, Content-Disposition
// honoured). Used by the preview, the CLI, workflow import and the catalog.
import type { DownloadPreview } from '../../shared/types'
import { UserError } from '../errors'
import { parseCivitai, resolveCivitai } from './civitai'
import { parseHfUrl, resolveHf } from './huggingface'
import { probeUrl } from './probe'
import type { Resolution, ResolveOptions } from './resolution'
import { civitaiEndpoint, hfEndpoint } from './endpoints'
import { pastedToken } from './pastedUrl'
import { stripSecrets } from './urlSafety'

export interface HubRequest {
  hub: 'civitai' | 'huggingface'
  /** The link without secrets, or the AIR. */
  link: string
  opts: ResolveOptions
}

/** Which hub a link or AIR belongs to (undefined: another link), with the
 *  options its API calls use. A token pasted in the link (Civitai's
 *  `?token=`) is used as a header for the hub's own API calls and never
 *  echoed back. */
export function hubRequest(input: string, opts: ResolveOptions): HubRequest | undefined {
  const text = input.trim()
  const hub = parseCivitai(text, opts.env)
    ? 'civitai'
    : parseHfUrl(text, opts.env)
      ? 'huggingface'
      : undefined
  if (!hub) return undefined
  const isLink = /^https?:\/\//i.test(text) // not an AIR URN
  const token = isLink ? pastedToken(text) : undefined
  return {
    hub,
    link: isLink ? stripSecrets(text) : text,
    opts: token ? { ...opts, auth: withToken(text, token, opts) } : opts
  }
}

export async function resolveSource(input: string, opts: ResolveOptions): Promise<Resolution> {
  const text = input.trim()
  const hub = hubRequest(text, opts)
  if (hub) {
    const resolve = hub.hub === 'civitai' ? resolveCivitai : resolveHf
    const r = await resolve(hub.link, hub.opts)
    return { ...r, input: stripSecrets(r.input) }
  }
  const u = URL.canParse(text) ? new URL(text) : undefined
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
    throw new UserError(
      'bad-request',
      `"${text.slice(0, 100)}" is not a link PodPull can use: paste an http(s) URL, a Hugging Face or Civitai page, or a Civitai AIR (urn:air:…).`
    )
  const p = await probeUrl(text, opts)
  return {
    input: stripSecrets(text),
    source: p.source,
    title: p.filename,
    page: null,
    files: [
      {
        url: stripSecrets(p.url),
        filename: p.filename,
        size: p.size,
        sha256: p.sha256 ?? null,
        suggestedFolder: p.suggestedFolder,
        label: p.filename,
        primary: true
      }
    ],
    selected: 0,
    modelType: null,
    baseModel: null,
    warning: null
  }
}

/** The one file a resolution means, or a clear request to pick one. */
export function chosenFile(r: Resolution): Resolution['files'][number] {
  const f = r.files[r.selected]
  if (f) return f
  const names = r.files.slice(0, 8).map((x) => x.label)
  throw new UserError(
    'choose-file',
    `${r.title} has ${r.files.length} model files; link to one of them (…/resolve/<revision>/<file>): ${names.join(', ')}${r.files.length > 8 ? ', …' : ''}`
  )
}

export function previewOf(r: Resolution): DownloadPreview {
  const f = chosenFile(r)
  return {
    url: f.url,
    filename: f.filename,
    size: f.size,
    source: r.source,
    suggestedFolder: f.suggestedFolder,
    sha256: f.sha256,
    warning: r.warning
  }
}

/** Auth with a pasted token: sent to the host it was pasted for and to the
 *  same hub's configured endpoint (a mirror), never anywhere else. */
function withToken(pasted: string, token: string, opts: ResolveOptions): ResolveOptions['auth'] {
  const endpoint = parseCivitai(pasted, opts.env) ? civitaiEndpoint(opts.env) : hfEndpoint(opts.env)
  const hosts = new Set([new URL(pasted).host, endpoint.host])
  return (u) => (hosts.has(u.host) ? `Bearer ${token}` : opts.auth(u))
}

/** Is a link one of the model hubs PodPull resolves (Hugging Face, Civitai)? */
export function isModelHubLink(input: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(parseHfUrl(input, env) ?? parseCivitai(input, env))
}

/** A token pasted in the link (`?token=`) goes on to the resolved download URL
 *  of the same hub; the target takes it out of the URL into a header and
 *  stores the URL without it. */
export function withPastedToken(resolved: string, pasted: string): string {
  if (!URL.canParse(pasted) || !URL.canParse(resolved)) return resolved
  const token = new URL(pasted).searchParams.get('token')
  if (!token) return resolved
  const u = new URL(resolved)
  u.searchParams.set('token', token)
  return u.toString()
}
