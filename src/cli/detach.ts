// `--detach` on a local target: the download lives in the process that runs it,
// so the command runs again in a detached process of its own, and this one
// returns once that process has said it started — or why it did not — over a
// pipe on fd 3 (never argv, never a file).
import { spawn } from 'node:child_process'
import { closeSync, writeSync } from 'node:fs'
import type { Readable } from 'node:stream'
import type { StartOutcome } from '../shared/types'

const READY_FD_ENV = 'PODPULL_READY_FD'

export interface ReadyMessage {
  ok: boolean
  id?: string
  outcome?: StartOutcome
  linkedFrom?: string
  path?: string
  /** With ok false: the one line the command would have printed, and its exit code. */
  message?: string
  exitCode?: number
}

/** Whether this process is a detached worker whose starter waits for its word. */
export const isDetachedWorker = (): boolean => process.env[READY_FD_ENV] !== undefined

/** Tells the starter how the start went (once; later calls do nothing). */
export function reportReady(msg: ReadyMessage): void {
  const fd = Number(process.env[READY_FD_ENV])
  delete process.env[READY_FD_ENV]
  if (!Number.isInteger(fd)) return
  try {
    writeSync(fd, `${JSON.stringify(msg)}\n`)
    closeSync(fd)
  } catch {
    // The starter is gone: nobody to tell.
  }
}

/** Runs this command again, detached, with `args` (without --detach), and
 *  resolves with the worker's word once it has started the work or failed. */
export function runDetached(args: string[]): Promise<ReadyMessage> {
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: { ...process.env, [READY_FD_ENV]: '3' }
  })
  const pipe = child.stdio[3] as Readable
  return new Promise((resolve) => {
    let text = ''
    const done = (msg: ReadyMessage): void => {
      child.off('close', onClose)
      pipe.off('data', onData)
      pipe.destroy()
      child.unref()
      resolve(msg)
    }
    const onData = (d: Buffer): void => {
      text += d.toString()
      const nl = text.indexOf('\n')
      if (nl < 0) return
      try {
        done(JSON.parse(text.slice(0, nl)) as ReadyMessage)
      } catch {
        done({ ok: false, message: 'The background process answered something unreadable.' })
      }
    }
    // 'close', not 'exit': it comes after every byte of the pipe was read.
    const onClose = (code: number | null): void =>
      done({
        ok: false,
        message: `The background process stopped before starting the download (exit ${code ?? 'by a signal'}).`
      })
    pipe.on('data', onData)
    pipe.on('error', () => undefined) // its end closing is what exit reports
    child.on('close', onClose)
    child.on('error', (err) =>
      done({ ok: false, message: `Could not start a background process: ${err.message}` })
    )
  })
}
