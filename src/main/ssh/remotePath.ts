// The only pod paths that ever reach a shell command line are the helper's,
// built by us from the workspace. Two independent guards keep them inert:
// the workspace may only use a plain character set, and the path is still
// single-quoted for the shell.
import { posix } from 'node:path'
import { UserError } from '../errors'

const SAFE_PATH = /^\/[A-Za-z0-9._/-]*$/

/** Throws a clear UserError unless `workspace` is an absolute, plain pod path. */
export function checkWorkspace(workspace: string): string {
  if (!SAFE_PATH.test(workspace) || workspace.split('/').some((p) => p === '..')) {
    throw new UserError(
      'bad-request',
      `The pod workspace "${workspace}" must be an absolute path made of letters, digits, ".", "_", "-" and "/".`
    )
  }
  return posix.normalize(workspace).replace(/(.)\/$/, '$1')
}

/** POSIX shell single quoting: the result is always one literal word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

export function podpullDir(workspace: string): string {
  return posix.join(workspace, '.podpull')
}

/** Hex digits of the helper's sha256 in its pod file name: 64 bits tell builds apart. */
const HASH_PREFIX = 16

/** <workspace>/.podpull/helper-<sha256 prefix>.pyz: named by content, so each
 *  build has its own file and an app never runs another build's helper. */
export function helperRemotePath(workspace: string, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`Bad helper sha256 "${sha256}"`)
  return posix.join(podpullDir(workspace), `helper-${sha256.slice(0, HASH_PREFIX)}.pyz`)
}
