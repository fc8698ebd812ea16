// Host-key pins ("host:port" → fingerprint in the store) over a target's
// life: trusting a pod's new key after a rebuild (only the one it presents
// now), and dropping a pin when the last target using that address goes.
import type { AppStore } from '../settings/createStore'
import type { StoredTarget } from '../settings/storeSchema'
import { hostPortKey } from '../ssh/hostKeyTrust'
import { presentedFingerprint } from '../ssh/presentedKey'
import { UserError } from '../errors'

const pinOf = (t: StoredTarget): string | null =>
  t.config.kind === 'ssh' ? hostPortKey(t.config.host, t.config.port) : null

/** After `removed` left the store: forget its pin unless another target uses it. */
export function dropUnusedPin(store: AppStore, removed: StoredTarget): void {
  const pin = pinOf(removed)
  if (!pin || store.get('targets').some((t) => pinOf(t) === pin)) return
  const known = { ...store.get('knownHosts') }
  delete known[pin]
  store.set('knownHosts', known)
}

/** Pins the key the pod presents now, if it is the one the user checked. */
export async function trustPresentedKey(
  store: AppStore,
  target: StoredTarget,
  fingerprint: string
): Promise<void> {
  const c = target.config
  if (c.kind !== 'ssh')
    throw new UserError('bad-request', `"${target.name}" is local: it has no host key.`)
  const presented = await presentedFingerprint({ host: c.host, port: c.port, user: c.user })
  const wanted = fingerprint.trim()
  if (presented !== wanted) {
    throw new UserError(
      'host-key-mismatch',
      `"${target.name}" (${hostPortKey(c.host, c.port)}) presents ${presented} now, not ` +
        `${wanted}: nothing was trusted. Compare with the fingerprint the pod prints.`
    )
  }
  store.set('knownHosts', { ...store.get('knownHosts'), [hostPortKey(c.host, c.port)]: presented })
}
