// The app's log a user can send: pino writing JSON lines to a rotating file
// under <PODPULL_HOME>/logs/ (rotating-file-stream: a new file at 5 MiB, the
// last 5 kept). Every line passes redactText() on its way to disk, so no
// field, message or stack can carry a token or a signed URL's signature.
// Electron-free: the app, `podpull serve` and the CLI all write here.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino, { type Logger } from 'pino'
import { createStream, type RotatingFileStream } from 'rotating-file-stream'
import { redactText } from './redact'

export const LOG_FILE = 'podpull.log'
export type AppLog = Logger

export interface AppLogOptions {
  /** PODPULL_HOME (or the platform's user-data folder). */
  home: string
  /** Current secret values (tokens, stored passphrases) to mask wherever they appear. */
  secrets?: () => readonly string[]
  level?: pino.Level
}

export function logDir(home: string): string {
  return join(home, 'logs')
}

/** A logger and the means to flush and close its file. */
export function createAppLog(opts: AppLogOptions): { log: AppLog; close(): Promise<void> } {
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
  const log = pino({ level: opts.level ?? 'info', base: { pid: process.pid } }, sink)
  return {
    log,
    close: () =>
      new Promise<void>((res) => {
        sink.end(() => file.end(() => res()))
      })
  }
}

/** A logger that writes nothing (tests, and before the home folder is known). */
export function silentLog(): AppLog {
  return pino({ level: 'silent' })
}
