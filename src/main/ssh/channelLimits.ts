// Bounds on what one SSH connection to a pod may cost us: how many channels
// are open at once (OpenSSH refuses more than MaxSessions, 10 by default), how
// much output one command may send, how long a line may grow, and how long a
// command may take. A pod is a machine we don't control: a broken or hostile
// one must get a clear error, not our memory or a hang.
import type { ClientChannel } from 'ssh2'
import { UserError } from '../errors'

/** Below OpenSSH's default MaxSessions (10), leaving room for a manual session. */
export const DEFAULT_MAX_CHANNELS = 8
/** A helper answer is one JSON line; a status file with thousands of entries fits easily. */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 << 20
/** One `watch` line carries the whole status file. */
export const DEFAULT_MAX_LINE_BYTES = 16 << 20
/** Helper commands answer in seconds; `start` probes the link with retries. */
export const DEFAULT_EXEC_TIMEOUT_MS = 180_000
/** What we keep of stderr: enough for the last lines of a traceback. */
const STDERR_KEEP_BYTES = 64 << 10

export interface ExecResult {
  stdout: string
  stderr: string
  code: number | null
}

const MiB = (n: number): string => `${Math.round(n / (1 << 20))} MiB`

/** A counting semaphore: at most `max` channels open, the rest wait in order. */
export class ChannelSlots {
  private active = 0
  private readonly waiting: Array<() => void> = []

  constructor(private readonly max: number) {}

  /** Resolves with a release function (safe to call twice) once a slot is free. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.active >= this.max) {
      await new Promise<void>((resolve, reject) => {
        const go = (): void => {
          signal?.removeEventListener('abort', abort)
          resolve()
        }
        const abort = (): void => {
          const i = this.waiting.indexOf(go)
          if (i >= 0) this.waiting.splice(i, 1)
          reject(signal?.reason)
        }
        if (signal?.aborted) return reject(signal.reason)
        signal?.addEventListener('abort', abort, { once: true })
        this.waiting.push(go)
      })
    } else this.active++
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.waiting.shift()
      if (next)
        next() // the slot passes straight on
      else this.active--
    }
  }
}

/** Gathers a command's output, killing it when it sends more than `maxBytes`. */
export function collectOutput(
  ch: ClientChannel,
  o: { maxBytes: number; what: string; where: string }
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = []
    let outBytes = 0
    let err = Buffer.alloc(0)
    let code: number | null = null
    let failed: UserError | null = null
    ch.on('data', (d: Buffer) => {
      if (failed) return
      outBytes += d.length
      if (outBytes > o.maxBytes) {
        failed = new UserError(
          'too-large',
          `The pod ${o.where} sent more than ${MiB(o.maxBytes)} in answer to ${o.what}; stopped it.`
        )
        out.length = 0
        ch.signal('KILL')
        ch.close()
        return
      }
      out.push(d)
    })
    ch.stderr.on('data', (d: Buffer) => {
      err = Buffer.concat([err, d])
      if (err.length > STDERR_KEEP_BYTES) err = err.subarray(err.length - STDERR_KEEP_BYTES)
    })
    ch.on('exit', (c: number | null) => (code = c))
    // The exit status may come before this listener exists: a loaded client
    // reads the exec's confirmation, output and exit status in one batch and
    // emits 'exit' before the caller's await resumes. ssh2 passes it to
    // 'close' too, which waits until the output has been read.
    ch.on('close', (exitCode?: number | null) => {
      if (failed) return reject(failed)
      code ??= typeof exitCode === 'number' ? exitCode : null
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: err.toString('utf8'), code })
    })
  })
}

/** Calls onLine per non-empty line; onTooLong once if a line outgrows maxBytes. */
export function splitLines(
  ch: ClientChannel,
  maxBytes: number,
  onLine: (line: string) => void,
  onTooLong: (err: UserError) => void
): void {
  let parts: Buffer[] = []
  let size = 0
  let stopped = false
  ch.on('data', (d: Buffer) => {
    if (stopped) return
    let start = 0
    let nl: number
    while ((nl = d.indexOf(0x0a, start)) >= 0) {
      parts.push(d.subarray(start, nl))
      const line = Buffer.concat(parts).toString('utf8').trim()
      parts = []
      size = 0
      start = nl + 1
      if (line) onLine(line)
    }
    const rest = d.subarray(start)
    size += rest.length
    if (size > maxBytes) {
      stopped = true
      parts = []
      onTooLong(new UserError('too-large', `A line from the pod grew past ${MiB(maxBytes)}.`))
      return
    }
    if (rest.length) parts.push(rest)
  })
}
