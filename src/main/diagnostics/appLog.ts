// The app's log a user can send: pino writing JSON lines to a rotating file
// under <PODPULL_HOME>/logs/ (rotating-file-stream: a new file at 5 MiB, the
// last 5 kept). Every line passes redactText() on its way to disk, so no
// field, message or stack can carry a token or a signed URL's signature.
// Electron-free: the app, `podpull serve` and the CLI all write here.
//
// pino and rotating-file-stream are loaded on the first write, without
// waiting for them: every CLI command would otherwise pay their load time
// before its first request. Lines written
// meanwhile are queued in order and keep the time they were written at.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { Level, Logger } from 'pino'
import type { RotatingFileStream } from 'rotating-file-stream'
import { redactText } from './redact'

export const LOG_FILE = 'podpull.log'
type LogFn = (obj: object, msg?: string) => void
/** What the app writes with: pino's three levels, object first. */
export interface AppLog {
  info: LogFn
  warn: LogFn
  error: LogFn
}

export interface AppLogOptions {
  /** PODPULL_HOME (or the platform's user-data folder). */
  home: string
  /** Current secret values (tokens, stored passphrases) to mask wherever they appear. */
  secrets?: () => readonly string[]
  level?: Level
}

export function logDir(home: string): string {
  return join(home, 'logs')
}

interface OpenLog {
  log: Logger
  /** Sets the time the next line carries (when it was written, not when it reached pino). */
  stamp(ms: number): void
  close(): Promise<void>
}

async function openLog(opts: AppLogOptions): Promise<OpenLog> {
  const [{ default: pino }, { createStream }] = await Promise.all([
    import('pino'),
    import('rotating-file-stream')
  ])
  const dir = logDir(opts.home)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file: RotatingFileStream = createStream(LOG_FILE, {
    path: dir,
    size: '5M',
    maxFiles: 5,
    mode: 0o600
  })
  // A log write must never take the process down (disk full, folder removed).
  file.on('error', () => undefined)
  const secrets = (): readonly string[] => {
    try {
      return opts.secrets?.() ?? []
    } catch {
      return [] // the patterns still apply; a failing secret lookup must not stop the log
    }
  }
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      file.write(redactText(chunk.toString('utf8'), secrets()), () => done())
    }
  })
  let at = Date.now()
  const log = pino(
    { level: opts.level ?? 'info', base: { pid: process.pid }, timestamp: () => `,"time":${at}` },
    sink
  )
  return {
    log,
    stamp: (ms) => (at = ms),
    close: () => new Promise<void>((res) => sink.end(() => file.end(() => res())))
  }
}

/** A logger and the means to flush and close its file. */
export function createAppLog(opts: AppLogOptions): { log: AppLog; close(): Promise<void> } {
  let opening: Promise<OpenLog | null> | undefined
  const open = (): Promise<OpenLog | null> => (opening ??= openLog(opts).catch(() => null)) // no log rather than no app
  const at =
    (level: keyof AppLog): LogFn =>
    (obj, msg) => {
      const now = Date.now()
      void open().then((o) => {
        o?.stamp(now)
        o?.log[level](obj, msg)
      })
    }
  return {
    log: { info: at('info'), warn: at('warn'), error: at('error') },
    close: async () => {
      const o = await opening
      await o?.close()
    }
  }
}

/** A logger that writes nothing (tests, and before the home folder is known). */
export function silentLog(): AppLog {
  const none: LogFn = () => undefined
  return { info: none, warn: none, error: none }
}
