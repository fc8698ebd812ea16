// The TypeScript engine as a conformance driver: a real LocalTarget (queue,
// status file, install), as a click in the app runs it.
import { DEFAULT_SETTINGS } from '../../src/shared/types'
import { LocalTarget } from '../../src/main/targets/local/localTarget'
import { authFor, authHint } from '../../src/main/sources/tokens'
import type { ConformanceDriver } from './scenarios'
import { comfyOf, targetDriver, tokenHostEnv } from './targetDriver'

export function localTargetDriver(): ConformanceDriver {
  return targetDriver('typescript engine', async (req) => {
    const env = tokenHostEnv(req)
    const target = new LocalTarget(
      {
        id: 'conformance',
        name: 'conformance',
        config: { kind: 'local', comfyui: comfyOf(req), workspace: req.workspace }
      },
      {
        settings: () => ({ ...DEFAULT_SETTINGS, autoResume: false }),
        auth: (url) => authFor(url, (k) => req.tokens?.[k], env),
        authHint: (url) => authHint(url, env),
        engine: { retryBaseMs: 50, stallTimeoutMs: 3000 }
      }
    )
    await target.open()
    return target
  })
}
