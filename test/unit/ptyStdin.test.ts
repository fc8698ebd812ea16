// A command's stdin crosses a pod's terminal as base64 in shell variables
// (ptyShell.ts): what a POSIX shell rebuilds from those lines is the input
// byte for byte, at every size an upload chunk or a request has; no terminal
// line comes near the 4095-byte limit; and no variable grows with the input
// (one growing variable made the pod's shell copy it at every line).
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { stdinVariables } from '../../src/main/ssh/ptyShell'

/** What `sh` prints when it runs the lines, then prints the variables as the shell does. */
function throughShell(stdin: string): Buffer {
  const { lines, vars } = stdinVariables(stdin)
  const script = [...lines, `printf '%s' ${vars.map((v) => `"$${v}"`).join(' ')} | base64 -d`]
  const r = spawnSync('sh', [], { input: script.join('\n') + '\n', maxBuffer: 64 << 20 })
  if (r.error) throw r.error
  expect(r.status, r.stderr.toString()).toBe(0)
  return r.stdout
}

describe('stdin through the terminal', () => {
  it.each([0, 1, 674, 675, 676, 14_400, 262_144 + 900, 1 << 20])('%i bytes arrive intact', (n) => {
    // Base64 of random bytes, as a request with a chunk in it is ASCII too.
    const stdin = randomBytes(n).toString('latin1')
    expect(throughShell(stdin).equals(Buffer.from(stdin, 'utf8'))).toBe(true)
  })

  it('keeps every line short and every variable small', () => {
    // A push-chunk request carries a 256 KiB chunk as base64.
    const { lines } = stdinVariables(randomBytes(256 * 1024).toString('base64'))
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(1000)
    const perVariable = new Map<string, number>()
    for (const l of lines) {
      const name = /^ (__pp\d+)=/.exec(l)?.[1]
      if (name) perVariable.set(name, (perVariable.get(name) ?? 0) + 1)
    }
    expect(Math.max(...perVariable.values())).toBeLessThanOrEqual(16)
  })

  it('names few enough variables that the line printing them stays short', () => {
    const { vars } = stdinVariables(randomBytes(4 << 20).toString('base64'))
    expect(vars.length).toBeLessThanOrEqual(128)
    expect(vars.map((v) => `"$${v}"`).join(' ').length).toBeLessThan(2000)
  })
})
