// The one list of error codes PodPull uses anywhere: thrown in main, sent over
// IPC / WebSocket, written to the status file's `error_code`, emitted by the pod
// helper, mapped to CLI exit codes and shown by the renderer. docs/formats.md
// documents this table; test/unit/errorCodes.test.ts keeps the helper, the docs
// and this list in step. Shared (no node imports) so the renderer can use it.

/** `usage`: the caller asked for something wrong (CLI exit 2); `failed`: it went wrong (exit 1). */
export type ErrorKind = 'usage' | 'failed'

export const ERROR_CODES = {
  'bad-request': { kind: 'usage', means: 'an argument or request is invalid' },
  'unknown-method': { kind: 'usage', means: 'no such API method' },
  'not-found': { kind: 'usage', means: 'no such target, download or folder' },
  exists: { kind: 'usage', means: 'a different file or a target of that name already exists' },
  'unsafe-path': { kind: 'usage', means: 'a file name or folder leaves the models folder' },
  'not-comfyui': { kind: 'usage', means: 'the folder is not a ComfyUI install' },
  'no-comfyui': { kind: 'failed', means: 'no ComfyUI install was found on the target' },
  unsupported: { kind: 'usage', means: 'not possible on this target or front end' },
  'read-only': { kind: 'usage', means: 'the setting is fixed by the environment' },
  'choose-file': { kind: 'usage', means: 'a link names several files: pick one' },
  'bad-workflow': { kind: 'usage', means: "a workflow file can't be read" },
  'bad-state': { kind: 'failed', means: 'the download is in a state that does not allow this' },
  busy: { kind: 'failed', means: 'another process is running this download' },
  auth: { kind: 'failed', means: 'the server answered 401/403; names the token to set' },
  html: { kind: 'failed', means: 'a web page arrived where a model file was expected' },
  http: { kind: 'failed', means: 'the server answered an HTTP error' },
  network: { kind: 'failed', means: 'the connection to the file server failed' },
  'no-space': { kind: 'failed', means: 'not enough free disk space' },
  unwritable: { kind: 'failed', means: 'a folder or file cannot be written' },
  checksum: { kind: 'failed', means: 'the file does not match its SHA-256' },
  stale: { kind: 'failed', means: 'the process running the download died' },
  offline: { kind: 'failed', means: 'the pod is not connected' },
  unreachable: { kind: 'failed', means: 'the pod address cannot be reached' },
  timeout: { kind: 'failed', means: 'connecting to the pod, or a helper call, timed out' },
  'too-large': { kind: 'failed', means: 'a pod sent more output than PodPull accepts' },
  ssh: { kind: 'failed', means: 'an SSH operation failed' },
  'ssh-auth': { kind: 'failed', means: 'the pod refused the SSH key or password' },
  'host-key-unknown': { kind: 'failed', means: 'first contact: the host key needs confirming' },
  'host-key-changed': { kind: 'failed', means: 'the host key differs from the trusted one' },
  'host-key-mismatch': {
    kind: 'failed',
    means: 'the fingerprint to trust is not the one the pod presents now'
  },
  'no-python': { kind: 'failed', means: 'the pod has no python3' },
  disconnected: { kind: 'failed', means: 'the dashboard lost its connection to PodPull' },
  closed: { kind: 'failed', means: 'the dashboard bridge was closed' },
  'runpod-key': { kind: 'failed', means: 'RunPod refused the API key (missing, wrong or revoked)' },
  'runpod-rate': { kind: 'failed', means: "RunPod's API is rate-limiting requests" },
  'runpod-down': { kind: 'failed', means: "RunPod's API could not be reached or failed" },
  'runpod-refused': {
    kind: 'failed',
    means: 'RunPod would not create a pod (price cap, capacity, quota or credit)'
  },
  internal: { kind: 'failed', means: 'a bug: anything not covered above' }
} as const satisfies Record<string, { kind: ErrorKind; means: string }>

export type ErrorCode = keyof typeof ERROR_CODES

export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[]

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code)
}

/** Whether an error with this code is the caller's mistake (CLI exit 2) rather than a failure. */
export function isUsageError(code: unknown): boolean {
  return isErrorCode(code) && ERROR_CODES[code].kind === 'usage'
}
