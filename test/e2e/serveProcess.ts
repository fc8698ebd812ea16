// Starts the real `podpull serve` (the built CLI) as a child process with its
// own PODPULL_HOME, so a test can stop and restart it like a user would.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { childWithErrorListeners } from '../support/listeners'

const CLI = fileURLToPath(new URL('../../bin/podpull', import.meta.url))

export interface ServeProcess {
  url: string
  pageUrl: string
  port: number
  stop(): Promise<void>
  restart(): Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => res(port))
    })
    s.on('error', rej)
  })
}

export interface CliRun {
  /** Resolves once the command has printed `text` (stdout or stderr). */
  said(text: string): Promise<void>
  done: Promise<{ code: number; out: string }>
  /** Ends it if it still runs (a failed test must not leave it waiting). */
  kill(): void
}

/** Runs the CLI in the background, like a command typed in another terminal. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): CliRun {
  const p = childWithErrorListeners(
    spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } })
  )
  let out = ''
  const waiting = new Set<() => void>()
  const onData = (d: Buffer): void => {
    out += d
    for (const w of waiting) w()
  }
  p.stdout.on('data', onData)
  p.stderr.on('data', onData)
  const done = new Promise<{ code: number; out: string }>((res) =>
    p.on('exit', (code) => res({ code: code ?? -1, out }))
  )
  const said = (text: string): Promise<void> =>
    new Promise((res, rej) => {
      const check = (): void => {
        if (!out.includes(text)) return
        waiting.delete(check)
        res()
      }
      waiting.add(check)
      check()
      void done.then(({ code }) => {
        if (!out.includes(text)) rej(new Error(`exited ${code} without saying "${text}": ${out}`))
      })
    })
  const kill = (): void => {
    if (p.exitCode === null) p.kill('SIGTERM')
  }
  return { said, done, kill }
}

export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv
): Promise<{ code: number; out: string }> {
  return startCli(args, env).done
}

export async function startServe(env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const port = await freePort()
  const token = 'e2e-token-0123456789abcdefghijklmnop'
  let child: ChildProcess | null = null
  const launch = (): Promise<void> =>
    new Promise((res, rej) => {
      const p = childWithErrorListeners(
        spawn(process.execPath, [CLI, 'serve', '--port', String(port)], {
          env: { ...process.env, ...env, PODPULL_SERVE_TOKEN: token },
          stdio: ['ignore', 'pipe', 'pipe']
        })
      )
      child = p
      let out = ''
      // A bound for a hung start only: a loaded CI machine can take well over 20 s
      // to load the CLI and open a target that has work to resume.
      const timer = setTimeout(() => rej(new Error(`serve did not start: ${out}`)), 90_000)
      const onData = (d: Buffer): void => {
        out += d
        if (out.includes('PodPull dashboard:')) {
          clearTimeout(timer)
          res()
        }
      }
      p.stdout!.on('data', onData)
      p.stderr!.on('data', (d: Buffer) => (out += d))
      p.on('exit', (code) => {
        clearTimeout(timer)
        if (!out.includes('PodPull dashboard:')) rej(new Error(`serve exited ${code}: ${out}`))
      })
    })
  const stop = async (): Promise<void> => {
    const p = child
    if (!p || p.exitCode !== null) return
    await new Promise<void>((res) => {
      p.once('exit', () => res())
      p.kill('SIGTERM')
      setTimeout(() => p.kill('SIGKILL'), 5000).unref()
    })
  }
  await launch()
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    pageUrl: `${url}/?token=${token}`,
    port,
    stop,
    restart: async () => {
      await stop()
      await launch()
    }
  }
}
