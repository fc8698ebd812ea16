// Where Hugging Face / Civitai tokens and the RunPod API key come from. The values never leave main:
// the UI only learns whether each one is set.
import type { KeyKind as TokenKind, TokenStatus } from '../../shared/types'

export interface TokenStore {
  get(kind: TokenKind): string | undefined
  status(): TokenStatus
  /** Absent when tokens can only come from the environment (CLI, headless). */
  set?(kind: TokenKind, value: string | null): void
}

const ENV_NAMES: Record<TokenKind, string> = {
  hf: 'HF_TOKEN',
  civitai: 'CIVITAI_API_TOKEN',
  // The name RunPod's own tools (runpodctl, the Python SDK) read.
  runpod: 'RUNPOD_API_KEY'
}

/** Which keys are set: the same three fields in every store. */
const which = (get: (kind: TokenKind) => string | undefined): Pick<TokenStatus, TokenKind> => ({
  hf: get('hf') !== undefined,
  civitai: get('civitai') !== undefined,
  runpod: get('runpod') !== undefined
})

export function envToken(
  kind: TokenKind,
  env: NodeJS.ProcessEnv = process.env
): string | undefined {
  const v = env[ENV_NAMES[kind]]?.trim()
  return v ? v : undefined
}

/** Tokens from HF_TOKEN / CIVITAI_API_TOKEN only (CLI and headless server). */
export function envTokenStore(env: NodeJS.ProcessEnv = process.env): TokenStore {
  return {
    get: (kind) => envToken(kind, env),
    status: () => ({ ...which((kind) => envToken(kind, env)), editable: false })
  }
}

/** Encrypts small secrets at rest (Electron's safeStorage in the app). */
export interface SecretBox {
  encrypt(plain: string): string
  decrypt(sealed: string): string
}

/** Tokens kept encrypted in the store, falling back to the environment. */
export function sealedTokenStore(
  box: SecretBox,
  read: () => Partial<Record<TokenKind, string>>,
  write: (tokens: Partial<Record<TokenKind, string>>) => void,
  env: NodeJS.ProcessEnv = process.env
): TokenStore {
  const get = (kind: TokenKind): string | undefined => {
    const sealed = read()[kind]
    if (sealed) {
      try {
        return box.decrypt(sealed)
      } catch {
        // A token sealed on another machine / keychain cannot be read: fall back.
      }
    }
    return envToken(kind, env)
  }
  return {
    get,
    status: () => ({ ...which(get), editable: true, keyring: true }),
    set: (kind, value) => {
      const tokens = { ...read() }
      if (value === null) delete tokens[kind]
      else tokens[kind] = box.encrypt(value)
      write(tokens)
    }
  }
}

/** The desktop app without an OS keyring: tokens typed in the UI are kept in
 *  memory until the app quits (never written to disk in clear), over the
 *  environment's HF_TOKEN / CIVITAI_API_TOKEN. The UI says so (no `keyring`). */
export function memoryTokenStore(env: NodeJS.ProcessEnv = process.env): TokenStore {
  const typed = new Map<TokenKind, string>()
  const get = (kind: TokenKind): string | undefined => typed.get(kind) ?? envToken(kind, env)
  return {
    get,
    status: () => ({ ...which(get), editable: true }),
    set: (kind, value) => {
      if (value === null) typed.delete(kind)
      else typed.set(kind, value)
    }
  }
}
