// Every call from any transport (Electron IPC, the headless WebSocket, the
// CLI) goes through here: the method must exist, the argument must pass its
// schema, and whatever goes wrong leaves as one clear {code, message}.
import {
  apiArgs,
  describeValidationError,
  type ApiErrorShape,
  type ApiHandlers,
  type ApiMethod
} from '../../shared/api'
import { PodPullError, isErrorCode, type ErrorCode } from '../errors'

/** A request that never reached a handler (unknown method, invalid arguments). */
export class ApiError extends PodPullError {
  constructor(code: ErrorCode, message: string) {
    super(code, message)
    this.name = 'ApiError'
  }
}

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.hasOwn(apiArgs, name)
}

export async function invokeMethod(
  handlers: ApiHandlers,
  method: unknown,
  args: unknown
): Promise<unknown> {
  if (!isApiMethod(method))
    throw new ApiError('unknown-method', `Unknown method "${String(method)}".`)
  const parsed = apiArgs[method].safeParse(args ?? {})
  if (!parsed.success)
    throw new ApiError('bad-request', describeValidationError(method, parsed.error))
  const handler = handlers[method] as (a: unknown) => Promise<unknown>
  return handler(parsed.data)
}

/** What crosses a process boundary: never a stack, never a secret, only a listed code. */
export function toApiError(err: unknown): ApiErrorShape {
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    const { code, message } = err as { code: unknown; message: unknown }
    if (isErrorCode(code) && typeof message === 'string') return { code, message }
  }
  const message = err instanceof Error ? err.message : String(err)
  return { code: 'internal', message: message || 'Something went wrong.' }
}
