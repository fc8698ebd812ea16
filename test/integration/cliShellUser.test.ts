// The CLI as a shell user meets it: piped into a reader that stops early
// (`| head -1`), and read through `--help`.
import { beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, freshComfy, runCli, spawnCli } from '../support/cli'

beforeAll(() => assertBuilt())

describe('a reader that closes the pipe early', () => {
  // The test closes its end of stdout before the CLI has written anything, so
  // every write the CLI makes meets a closed pipe (EPIPE) — the case `| head -1`
  // hits whenever the CLI writes after head has exited. Reading a first line
  // and then closing would leave it to chance whether any write came later.
  const closedEarly = async (args: string[], env: NodeJS.ProcessEnv) => {
    const p = spawnCli(args, env)
    p.stdout!.destroy()
    p.stderr!.setEncoding('utf8')
    let stderr = ''
    p.stderr!.on('data', (d: string) => (stderr += d))
    const code = await new Promise<number | null>((res, rej) => {
      p.on('error', rej)
      p.on('exit', (c) => res(c))
    })
    return { code, stderr }
  }

  it.each([
    ['status --target box', ['status', '--target', 'box']],
    ['status', ['status']],
    ['targets list', ['targets', 'list']],
    ['--help', ['--help']]
  ])('`podpull %s` ends quietly with exit 0', async (_name, args) => {
    const c = freshComfy()
    const env = { PODPULL_HOME: c.home }
    const add = await runCli(['targets', 'add-local', 'box', '--comfyui', c.comfy], env)
    expect(add.code, add.stderr).toBe(0)
    const r = await closedEarly(args, env)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
  })
})

/** The entries of one section ("Options:", "Commands:") of commander's help:
 *  each is a term at two spaces' indent and, after two or more spaces, its
 *  description (wrapped lines of a description sit deeper and are skipped). */
function helpEntries(help: string, section: string): { term: string; description: string }[] {
  const lines = help.split('\n')
  const start = lines.indexOf(section)
  if (start < 0) return []
  const entries: { term: string; description: string }[] = []
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break
    const m = /^ {2}(\S(?:\S| (?! ))*)(?: {2,}(\S.*))?$/.exec(line)
    if (m) entries.push({ term: m[1]!, description: m[2] ?? '' })
  }
  return entries
}

describe('podpull --help', () => {
  it('has a description for every command and option, all the way down', async () => {
    const env = { PODPULL_HOME: freshComfy().home }
    const missing: string[] = []
    const seen: string[] = []
    // Walks the commands the program itself lists, so a new command is covered
    // the day it is added.
    const queue: string[][] = [[]]
    while (queue.length) {
      const path = queue.shift()!
      const r = await runCli([...path, '--help'], env)
      expect(r.code, r.stderr).toBe(0)
      const where = ['podpull', ...path].join(' ')
      seen.push(where)
      for (const o of helpEntries(r.stdout, 'Options:'))
        if (!o.description) missing.push(`${where}: option ${o.term}`)
      for (const c of helpEntries(r.stdout, 'Commands:')) {
        const name = c.term.split(' ')[0]!
        if (name === 'help') continue
        if (!c.description) missing.push(`${where}: command ${name}`)
        queue.push([...path, name])
      }
    }
    expect(seen).toEqual(expect.arrayContaining(['podpull status', 'podpull targets add-ssh']))
    expect(missing).toEqual([])
    // One process per command on a loaded machine: a bound, not a pace.
  }, 180_000)
})
