// Takes secrets out of free text before it reaches a log file or a diagnostics
// archive: every URL goes through the same stripSecrets() that keeps URLs in
// the status file clean, then token-shaped words and the exact values of the
// tokens / passphrases this process knows are masked.
import { stripSecrets } from '../sources/urlSafety'

const MASK = '[redacted]'

/** Token shapes that can appear outside a URL (headers, pasted text, error messages). */
const TOKEN_PATTERNS: [RegExp, string][] = [
  [/\bhf_[A-Za-z0-9]{10,}\b/g, MASK], // Hugging Face user / org tokens
  [/\brpa_[A-Za-z0-9]{10,}\b/g, MASK], // RunPod API keys
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${MASK}`], // Authorization values
  [
    /\b((?:[a-z0-9_-]*token|api[_-]?key|secret|passphrase|password|signature|sig)["']?\s*[:=]\s*["']?)[^\s"'&,}]{4,}/gi,
    `$1${MASK}`
  ]
]

const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>\\]+/gi

export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(URL_IN_TEXT, (u) => stripSecrets(u))
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join(MASK)
  for (const [re, by] of TOKEN_PATTERNS) out = out.replace(re, by)
  return out
}
