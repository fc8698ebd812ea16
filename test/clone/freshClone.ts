// A fresh clone of this repository, as a new user (or CI) gets it, and the
// means to run the README's commands in it as a user's shell would.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { childWithErrorListeners } from '../support/listeners'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Clones the committed HEAD of this checkout (what CI tests) into a temp folder. */
export function freshClone(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'podpull-clone-')), 'podpull')
  const head = execFileSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
  execFileSync('git', ['clone', '--quiet', '--no-checkout', ROOT, dir])
  execFileSync('git', ['-C', dir, 'checkout', '--quiet', head])
  return dir
}

/** The environment of a user's shell: none of the npm, vitest or Electron
 *  variables this test runs under, a PODPULL_HOME of its own, plus `extra`. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env))
    if (!/^(npm_|VITEST|NODE_ENV$|NODE_OPTIONS$|ELECTRON_|electron_)/i.test(k)) env[k] = v
  env.PODPULL_HOME = mkdtempSync(join(tmpdir(), 'podpull-home-'))
  return { ...env, ...extra }
}

export interface ShellRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Starts `command` with sh in its own process group (so it can be stopped whole). */
export function startShell(command: string, cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
  return childWithErrorListeners(
    spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  )
}

/** Runs `command` with sh, as typed at a prompt, to its end. */
export function runShell(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<ShellRun> {
  const p = startShell(command, cwd, env)
  let stdout = ''
  let stderr = ''
  p.stdout!.on('data', (d) => (stdout += d))
  p.stderr!.on('data', (d) => (stderr += d))
  return new Promise((res, rej) => {
    p.on('error', rej)
    p.on('close', (code) => res({ code, stdout, stderr }))
  })
}

/** The commands of the README's "Quick start" (its sh blocks, one a line,
 *  comments dropped), so the test runs exactly what the README says. */
export function quickStartCommands(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const section = /^## Quick start\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1]
  if (!section) throw new Error('the README has no "## Quick start" section')
  const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => m[1]!)
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter(Boolean)
}

/** The one quick-start command that runs `what` (e.g. "npm start"). */
export function quickStart(what: string): string {
  const found = quickStartCommands().filter((c) =>
    c.split('&&').some((part) => part.trim() === what)
  )
  if (found.length !== 1)
    throw new Error(
      `the README's quick start should have one command running "${what}": [${found}]`
    )
  return found[0]!
}
