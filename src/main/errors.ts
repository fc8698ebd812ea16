// The error classes main throws. Every one carries a `code` from the single
// list in src/shared/errorCodes.ts, so the compiler rejects a code nobody
// documented, and every front end (CLI exit codes, renderer, status file)
// reads the same vocabulary.
import type { ErrorCode } from '../shared/errorCodes'

export { ERROR_CODES, ERROR_CODE_LIST, isErrorCode, isUsageError } from '../shared/errorCodes'
export type { ErrorCode } from '../shared/errorCodes'

/** The base of every error PodPull raises on purpose. */
export class PodPullError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string
  ) {
    super(message)
    this.name = 'PodPullError'
  }
}

/** An error the user should read as is (bad input, missing token, …). */
export class UserError extends PodPullError {
  constructor(code: ErrorCode, message: string) {
    super(code, message)
    this.name = 'UserError'
  }
}
