// Talks to the helper on a pod: `python3 '<helper>' <command>` with the request
// as one JSON object on stdin and one JSON line back (docs/formats.md, "Helper
// protocol"). Only the helper path (built by us, checked and quoted) and a fixed
// command word go on the command line; URLs, paths and tokens stay on stdin.
import type { HashingProgress } from '../../shared/types'
import { UserError, isErrorCode } from '../errors'
import { shellQuote } from './remotePath'
import type { LineStream, LinesOptions } from './sshConnection'
import type { CommandRunner } from './transport'

export const HELPER_COMMANDS = [
  'probe',
  'start',
  'resume',
  'pause',
  'cancel',
  'remove',
  'clear-completed',
  'status',
  'models',
  'log-tail',
  // installed models: inventory, sha256, delete
  'inventory',
  'model-sha256',
  'model-delete',
  'extra-paths',
  // a file pushed from the app (push-keep is a stream: see stream())
  'push-begin',
  'push-chunk',
  'push-commit',
  'push-fail',
  // the content index: background hashing
  'index-content',
  'keep-one',
  'set-limits',
  // where each downloaded file came from (the workspace's source record)
  'sources'
] as const
export type HelperCommand = (typeof HELPER_COMMANDS)[number]

export const NO_PYTHON =
  'python3 was not found on the pod; install it or use an image with Python 3.8+'

export interface WatchMessage {
  type: 'status' | 'heartbeat' | 'hashing' | 'limits'
  status?: Record<string, unknown>
  /** The pod's background hasher: progress, or null when none runs. */
  hashing?: HashingProgress | null
  /** The workspace's bandwidth limits file (null: none, or malformed), at once and on each change. */
  limits?: Record<string, unknown> | null
  t?: number
}

/** Commands that answer with a stream of JSON lines. */
export type StreamCommand = 'watch' | 'push-keep'

/** How every helper process is started (also by the tests and the benchmark). */
export const PYTHON_FLAGS = ['-I', '-S'] as const

export class HelperClient {
  constructor(
    /** Exec channels or a terminal (ssh/transport.ts): the same to us. */
    private readonly conn: CommandRunner,
    /** <workspace>/.podpull/helper-<sha256 prefix>.pyz, from helperRemotePath(). */
    private readonly helperPath: string
  ) {}

  private commandLine(word: HelperCommand | StreamCommand): string {
    // -I: isolated (a PYTHONPATH or user site on the pod can't shadow the
    // stdlib the helper imports); -S: no site import, the helper needs none and
    // starts faster.
    return `python3 ${PYTHON_FLAGS.join(' ')} ${shellQuote(this.helperPath)} ${word}`
  }

  /** Runs one command; resolves the answer without `ok`, or throws UserError(code, error). */
  async call<T extends object = Record<string, unknown>>(
    command: HelperCommand,
    request: object
  ): Promise<T> {
    const r = await this.conn.exec(this.commandLine(command), JSON.stringify(request) + '\n', {
      what: `"${command}"`
    })
    if (r.code === 127) throw new UserError('no-python', NO_PYTHON)
    if (r.code === null && !r.stdout.trim()) {
      throw new UserError(
        'offline',
        `The connection to ${this.conn.where} dropped before the pod answered "${command}".`
      )
    }
    const line = r.stdout.trim().split('\n').pop() ?? ''
    let answer: unknown
    try {
      answer = JSON.parse(line)
    } catch {
      throw new UserError('internal', `The pod helper failed (${command}): ${lastLine(r.stderr)}`)
    }
    const a = answer as { ok?: unknown; error?: unknown; code?: unknown }
    if (a.ok === true) return answer as T
    throw new UserError(
      // A helper of another version may answer a code this app does not know.
      isErrorCode(a.code) ? a.code : 'internal',
      typeof a.error === 'string' ? a.error : `The pod helper refused "${command}".`
    )
  }

  /** The long-lived `watch` stream; non-JSON lines are ignored. */
  watch(
    request: { workspace: string; interval?: number },
    onMessage: (m: WatchMessage) => void
  ): Promise<LineStream> {
    return this.stream('watch', request, (m) => {
      const w = m as unknown as WatchMessage
      if (['status', 'heartbeat', 'hashing', 'limits'].includes(w.type)) onMessage(w)
    })
  }

  /** A command that answers with JSON lines while it runs; other lines are
   *  ignored. With `keepInput` (where the transport allows it) the stream's
   *  `send` takes more JSON lines for the command. */
  stream(
    command: StreamCommand,
    request: object,
    onMessage: (m: Record<string, unknown>) => void,
    o: LinesOptions = {}
  ): Promise<LineStream> {
    return this.conn.lines(
      this.commandLine(command),
      JSON.stringify(request) + '\n',
      (line) => {
        let m: unknown
        try {
          m = JSON.parse(line)
        } catch {
          return // a stray print is not a message
        }
        if (m && typeof m === 'object' && !Array.isArray(m)) onMessage(m as Record<string, unknown>)
      },
      o
    )
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n')
  return lines[lines.length - 1]?.trim() || 'no output'
}
