// Where Hugging Face and Civitai live for this process. HF_ENDPOINT is
// huggingface_hub's own convention for mirrors; PODPULL_CIVITAI_ENDPOINT does
// the same for Civitai (mirrors, tests). A pasted public link is fetched from
// the configured endpoint, so a user on a mirror can paste what they find.

const HF_PUBLIC = 'https://huggingface.co'
const CIVITAI_PUBLIC = 'https://civitai.com'

function base(value: string | undefined, fallback: string): URL {
  const u = value ? URL.canParse(value) && new URL(value) : undefined
  return u && (u.protocol === 'http:' || u.protocol === 'https:') ? u : new URL(fallback)
}

export function hfEndpoint(env: NodeJS.ProcessEnv = process.env): URL {
  return base(env.HF_ENDPOINT?.trim(), HF_PUBLIC)
}

export function civitaiEndpoint(env: NodeJS.ProcessEnv = process.env): URL {
  return base(env.PODPULL_CIVITAI_ENDPOINT?.trim(), CIVITAI_PUBLIC)
}

const HF_HOSTS = new Set(['huggingface.co', 'www.huggingface.co', 'hf.co'])
const CIVITAI_HOSTS = new Set(['civitai.com', 'www.civitai.com'])

/** Is this URL on Hugging Face (the public site or the configured endpoint)? */
export function isHfUrl(u: URL, env: NodeJS.ProcessEnv = process.env): boolean {
  return HF_HOSTS.has(u.hostname.toLowerCase()) || u.host === hfEndpoint(env).host
}

export function isCivitaiUrl(u: URL, env: NodeJS.ProcessEnv = process.env): boolean {
  return CIVITAI_HOSTS.has(u.hostname.toLowerCase()) || u.host === civitaiEndpoint(env).host
}

/** The same path and query on the configured endpoint (keeps a mirror's path
 *  prefix). Set on a parsed URL, never joined as text: no path can move the
 *  request to another host or port (`@host`, `//host`, a scheme). */
export function endpointUrl(endpoint: URL, path: string, search = ''): string {
  const q = path.indexOf('?')
  const [p, s] = q >= 0 ? [path.slice(0, q), path.slice(q)] : [path, search]
  const u = new URL(endpoint.origin)
  u.pathname = `${endpoint.pathname.replace(/\/+$/, '')}/${p.replace(/^\/+/, '')}`
  u.search = s
  return u.href
}

/** A hub's download URL that redirects to a short-lived signed CDN link
 *  (Hugging Face `/resolve/`, Civitai `/api/download/models/`): the engines ask
 *  it without Range and send ranges only to the link. */
export function redirectsToSignedLink(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const u = URL.canParse(url) ? new URL(url) : undefined
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:')) return false
  if (isHfUrl(u, env)) return /\/resolve\/[^/]+\/./.test(u.pathname)
  return isCivitaiUrl(u, env) && /\/api\/download\/models\/\d+\/?$/.test(u.pathname)
}
