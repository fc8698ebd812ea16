// Trust on first use for pod host keys. ssh2 hands the verifier the raw key
// blob; we show and store it as OpenSSH does (`ssh-keygen -lf`), so a user can
// compare what PodPull asks about with what the pod's console prints.
import { createHash } from 'node:crypto'
import { UserError } from '../errors'

export interface KnownHosts {
  get(hostPort: string): string | undefined
  set(hostPort: string, fingerprint: string): void
}

/** OpenSSH's `SHA256:<base64 without padding>` of a raw public key blob. */
export function fingerprintOf(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')
}

/** The key under which a pod's fingerprint is stored: "host:port". */
export function hostPortKey(host: string, port: number): string {
  return `${host}:${port}`
}

/** A refusal that carries the fingerprint the server showed, so the UI / CLI can ask. */
export class HostKeyError extends UserError {
  constructor(
    code: 'host-key-unknown' | 'host-key-changed',
    message: string,
    readonly fingerprint: string
  ) {
    super(code, message)
  }
}

/** What to do about a changed key: a rebuilt pod is routine (RunPod makes new keys). */
export function changedKeyAdvice(fingerprint: string): string {
  return (
    "If the pod was rebuilt, check the new key against the pod's console, then trust it: " +
    `"Trust new key" on the target, or podpull targets trust <name> --fingerprint ${fingerprint}`
  )
}

export type HostKeyDecision =
  { ok: true; fingerprint: string; stored: boolean } | { ok: false; error: HostKeyError }

/**
 * Decides whether to trust the key a pod presented.
 * - known and equal → trusted;
 * - known and different → refused ('host-key-changed'), even if `accept` names the new key:
 *   a rebuilt pod is re-added on purpose, never silently;
 * - unknown and `accept` equals it → trusted and stored;
 * - unknown otherwise → refused ('host-key-unknown') with the fingerprint to confirm.
 */
export function decideHostKey(
  hostPort: string,
  fingerprint: string,
  knownHosts: KnownHosts,
  accept?: string
): HostKeyDecision {
  const known = knownHosts.get(hostPort)
  if (known === fingerprint) return { ok: true, fingerprint, stored: false }
  if (known !== undefined) {
    const message =
      `The host key of ${hostPort} changed (was ${known}, now ${fingerprint}). ` +
      changedKeyAdvice(fingerprint)
    return { ok: false, error: new HostKeyError('host-key-changed', message, fingerprint) }
  }
  if (accept !== undefined && accept.trim() === fingerprint) {
    knownHosts.set(hostPort, fingerprint)
    return { ok: true, fingerprint, stored: true }
  }
  const message =
    `The host key of ${hostPort} is not trusted yet (${fingerprint}). ` +
    'Check it and confirm to connect.'
  return { ok: false, error: new HostKeyError('host-key-unknown', message, fingerprint) }
}

/**
 * An ssh2 `hostVerifier` plus what it decided. ssh2 only says "Host denied", so
 * the connection asks `lastDecision()` to give the user the real reason.
 */
export function hostVerifierFor(
  hostPort: string,
  knownHosts: KnownHosts,
  accept?: () => string | undefined
): { verify: (key: Buffer) => boolean; lastDecision: () => HostKeyDecision | undefined } {
  let last: HostKeyDecision | undefined
  return {
    verify: (key) => {
      last = decideHostKey(hostPort, fingerprintOf(key), knownHosts, accept?.())
      return last.ok
    },
    lastDecision: () => last
  }
}
