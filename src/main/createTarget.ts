// Builds the right Target for a stored definition, wiring in settings, tokens,
// trusted host keys and the pod snapshot cache from the app store.
import type { TargetContext } from './core/podpullCore'
import type { StoredTarget } from './settings/storeSchema'
import { authFor, authHint, tokenHostsFromEnv } from './sources/tokens'
import { LocalTarget } from './targets/localTarget'
import { PodTarget } from './targets/podTarget'
import type { Target } from './targets/target'

export function createTarget(stored: StoredTarget, ctx: TargetContext): Target {
  const { id, name, config } = stored
  const tokenOf = (kind: 'hf' | 'civitai'): string | undefined => ctx.tokens.get(kind)
  if (config.kind === 'local') {
    return new LocalTarget(
      { id, name, config },
      {
        settings: ctx.settings,
        auth: (url) => authFor(url, tokenOf),
        authHint: (url) => authHint(url)
      }
    )
  }
  const store = ctx.store
  return new PodTarget(
    { id, name, config },
    {
      settings: ctx.settings,
      tokens: () => ({ hf: tokenOf('hf'), civitai: tokenOf('civitai') }),
      tokenHosts: () => tokenHostsFromEnv(),
      knownHosts: {
        get: (hostPort) => store.get('knownHosts')[hostPort],
        set: (hostPort, fp) =>
          store.set('knownHosts', { ...store.get('knownHosts'), [hostPort]: fp })
      },
      secret: () => ctx.secret(id),
      acceptHostKey: ctx.acceptHostKey,
      cache: {
        load: () => store.get('podCache')[id]?.records,
        lastSeen: () => store.get('podCache')[id]?.lastSeen ?? null,
        info: () => store.get('podCache')[id],
        save: (records, info) => {
          store.set('podCache', {
            ...store.get('podCache'),
            [id]: {
              records,
              lastSeen: info.lastSeen,
              freeBytes: info.freeBytes,
              comfyui: info.comfyui
            }
          })
        }
      }
    }
  )
}
