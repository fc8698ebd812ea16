// Type-level proof that an error code outside src/shared/errorCodes.ts does not
// compile, whichever error class throws it and whichever front end reports it.
import { expectTypeOf, test } from 'vitest'
import { PodPullError, UserError, type ErrorCode } from '../../src/main/errors'
import { EngineError } from '../../src/main/engine/types'
import { ApiError } from '../../src/main/api/dispatch'
import type { ApiErrorShape } from '../../src/shared/api'

test('every error class takes only a listed code', () => {
  expectTypeOf<UserError['code']>().toEqualTypeOf<ErrorCode>()
  expectTypeOf<EngineError['code']>().toEqualTypeOf<ErrorCode>()
  expectTypeOf<ApiError['code']>().toEqualTypeOf<ErrorCode>()
  expectTypeOf<ApiErrorShape['code']>().toEqualTypeOf<ErrorCode>()
  expectTypeOf(new UserError('no-space', 'x')).toExtend<PodPullError>()
  // @ts-expect-error 'disk' is not a PodPull error code
  new UserError('disk', 'x')
  // @ts-expect-error 'html-page' is not a PodPull error code
  new EngineError('html-page', 'x')
  // @ts-expect-error a made-up code cannot cross the API boundary either
  const shape: ApiErrorShape = { code: 'oops', message: 'x' }
  void shape
})
