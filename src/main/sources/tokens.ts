// Which token a URL may carry. A token is sent only to the exact host it was
// issued for (huggingface.co, civitai.com): never to a CDN behind a redirect,
// which is why sub-domains do not match (cdn-lfs.huggingface.co gets nothing).
import type { TokenKind } from '../../shared/types'

const HOSTS: Record<TokenKind, readonly string[]> = {
  hf: ['huggingface.co', 'www.huggingface.co', 'hf.co'],
  civitai: ['civitai.com', 'www.civitai.com']
}

const ENV_HOSTS: Record<TokenKind, string> = {
  hf: 'PODPULL_HF_HOSTS',
  civitai: 'PODPULL_CIVITAI_HOSTS'
}

/** Extra `host` or `host:port` entries per token kind, from PODPULL_HF_HOSTS /
 *  PODPULL_CIVITAI_HOSTS (comma-separated). Lets tests and mirrors (an HF
 *  mirror on a LAN) be treated like the real hosts. */
export function tokenHostsFromEnv(
  env: NodeJS.ProcessEnv = process.env
): Record<TokenKind, string[]> {
  const list = (name: string): string[] =>
    (env[name] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean)
  return { hf: list(ENV_HOSTS.hf), civitai: list(ENV_HOSTS.civitai) }
}

export function tokenKindFor(
  url: URL,
  env: NodeJS.ProcessEnv = process.env
): TokenKind | undefined {
  const host = url.hostname.toLowerCase()
  const hostPort = url.host.toLowerCase()
  const extra = tokenHostsFromEnv(env)
  for (const kind of ['hf', 'civitai'] as const) {
    if (HOSTS[kind].includes(host)) return kind
    if (extra[kind].includes(host) || extra[kind].includes(hostPort)) return kind
  }
  return undefined
}

/** The token kind this URL may carry: its host's, and only over https — a
 *  token on plain http can be read by anyone on the path. A host listed
 *  explicitly in PODPULL_HF_HOSTS / PODPULL_CIVITAI_HOSTS (a LAN mirror, a
 *  test server) is the user's own choice and may use http. */
export function sendableTokenKind(
  url: URL,
  env: NodeJS.ProcessEnv = process.env
): TokenKind | undefined {
  return sendableTokenKindWith(url, tokenHostsFromEnv(env))
}

/** sendableTokenKind with the extra hosts given (a pod target gets them as data). */
export function sendableTokenKindWith(
  url: URL,
  extra: Record<TokenKind, string[]>
): TokenKind | undefined {
  const host = url.hostname.toLowerCase()
  const hostPort = url.host.toLowerCase()
  for (const kind of ['hf', 'civitai'] as const) {
    const listed = extra[kind].includes(host) || extra[kind].includes(hostPort)
    if (listed) return kind
    if (HOSTS[kind].includes(host)) return url.protocol === 'https:' ? kind : undefined
  }
  return undefined
}

/** The Authorization header value for this URL's host, if a token applies. */
export function authFor(
  url: URL,
  tokenOf: (kind: TokenKind) => string | undefined,
  env: NodeJS.ProcessEnv = process.env
): string | undefined {
  const kind = sendableTokenKind(url, env)
  const token = kind ? tokenOf(kind) : undefined
  return token ? `Bearer ${token}` : undefined
}

const HINTS: Record<TokenKind, string> = {
  hf:
    'Hugging Face refused the download: the model is gated or private. Accept its license on ' +
    'huggingface.co, then set a Hugging Face token (HF_TOKEN, or Settings → Tokens).',
  civitai:
    'Civitai needs an API token for this download: set CIVITAI_API_TOKEN or add it in ' +
    'Settings → Tokens.'
}

/** The fix to name when a host answers 401/403 or a login page. */
export function authHint(url: URL, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const kind = tokenKindFor(url, env)
  return kind ? HINTS[kind] : undefined
}

/** The tokens a pod gets for one download: only the one its URL's host needs
 *  (over https, or to a listed host), or none. `url` undefined or not a URL → none. */
export function tokensFor(
  url: string | undefined,
  tokens: Partial<Record<TokenKind, string>>,
  extra: Record<TokenKind, string[]>
): Partial<Record<TokenKind, string>> {
  let kind: TokenKind | undefined
  try {
    kind = url ? sendableTokenKindWith(new URL(url), extra) : undefined
  } catch {
    kind = undefined
  }
  const value = kind ? tokens[kind] : undefined
  return kind && value ? { [kind]: value } : {}
}
