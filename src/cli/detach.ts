// `--detach` on a local target: the download lives in the process that runs it,
// so the command runs again in a detached process of its own, and this one
// returns once that process has said it started — or why it did not — over a
// pipe on fd 3 (never argv, never a file). The link itself reaches the worker
// on its stdin, not in its argv: a worker lives as long as its download, and
// any user on the machine can read a process's argv (`ps`), while links often
// carry a signed token.
import { spawn } from 'node:child_process'
import { closeSync, writeSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import type { StartOutcome } from '../shared/types'

/** How a starter tells its worker where to report and that the link comes on stdin. */
export const READY_FD_ENV = 'PODPULL_READY_FD'
export const STDIN_ENV = 'PODPULL_LINK_ON_STDIN'
/** Stands in the worker's argv where the link was. */
export const LINK_PLACEHOLDER = '@podpull-link-on-stdin'

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
export function runDetached(args: string[], link?: string): Promise<ReadyMessage> {
  const hide = (a: string): string =>
    link === undefined
      ? a
      : a === link
        ? LINK_PLACEHOLDER
        : a.endsWith(`=${link}`)
          ? `${a.slice(0, -link.length)}${LINK_PLACEHOLDER}`
          : a
  const child = spawn(process.execPath, args.map(hide), {
    detached: true,
    stdio: [link === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      [READY_FD_ENV]: '3',
      ...(link === undefined ? {} : { [STDIN_ENV]: '1' })
    }
  })
  if (link !== undefined) {
    child.stdin!.on('error', () => undefined) // a worker that died at once: its exit says so
    child.stdin!.end(JSON.stringify({ link }))
  }
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

/** A detached worker's argv with the link it was given on stdin put back in
 *  place (read once, at start-up); any other process's argv as it is. */
export async function argvWithLink(argv: string[]): Promise<string[]> {
  if (process.env[STDIN_ENV] === undefined) return argv
  delete process.env[STDIN_ENV]
  // Read as a stream, to its end, never with readFileSync(0): loading any ES
  // module that imports node:process makes fd 0 non-blocking, so a synchronous
  // read fails with EAGAIN whenever the starter's last bytes (or its end) have
  // not arrived yet — on a busy machine, now and then.
  const { link } = JSON.parse(await text(process.stdin)) as { link: string }
  return argv.map((a) =>
    a.endsWith(LINK_PLACEHOLDER) ? a.slice(0, -LINK_PLACEHOLDER.length) + link : a
  )
}
