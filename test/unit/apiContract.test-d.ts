// Type-level proof that the handler table covers every channel of the contract
// with the right argument and result types, and that the preload bridge type
// has one subscription per event.
import { expectTypeOf, test } from 'vitest'
import type {
  ApiHandlers,
  ApiMethod,
  PodPullBridge,
  PodPullSubscriptions
} from '../../src/shared/api'
import { createHandlers } from '../../src/main/api/handlers'

test('createHandlers implements every method of the contract', () => {
  type Built = ReturnType<typeof createHandlers>
  expectTypeOf<Built>().toEqualTypeOf<ApiHandlers>()
  expectTypeOf<keyof Built>().toEqualTypeOf<ApiMethod>()
})

test('the bridge exposes every method and an on<Event> per event', () => {
  expectTypeOf<PodPullBridge['startDownload']>().parameter(0).toHaveProperty('url')
  expectTypeOf<keyof PodPullSubscriptions>().toEqualTypeOf<
    'onDownloadsChanged' | 'onTargetsChanged' | 'onSettingsChanged' | 'onTokensChanged'
  >()
  expectTypeOf<ReturnType<PodPullBridge['onDownloadsChanged']>>().toEqualTypeOf<() => void>()
})
