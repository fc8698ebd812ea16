// A pod that floods, hangs or is asked for too many channels at once, against
// a real OpenSSH sshd with its default MaxSessions (10): every limit ends in a
// clear error, and the connection keeps working afterwards.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { SshConnection, type SshConnectionOptions } from '../../src/main/ssh/sshConnection'
import { shellQuote } from '../../src/main/ssh/remotePath'
import { UserError } from '../../src/main/errors'

let sshd: SshdHarness
let tmp: string
const open: SshConnection[] = []

function conn(o: Partial<SshConnectionOptions> = {}): SshConnection {
  const known: Record<string, string> = { [`127.0.0.1:${sshd.port}`]: sshd.hostKeyFingerprint }
  const c = new SshConnection({
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    keyPath: sshd.keyPath,
    knownHosts: { get: (k) => known[k], set: (k, v) => void (known[k] = v) },
    agent: '',
    ...o
  })
  open.push(c)
  return c
}

async function refusal(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(UserError)
  return err as UserError
}

beforeAll(async () => {
  sshd = await startSshd({ maxSessions: 10 })
  tmp = mkdtempSync(join(tmpdir(), 'podpull-sshlimits-'))
})
afterAll(async () => {
  open.forEach((c) => c.close())
  await sshd?.close()
  rmSync(tmp, { recursive: true, force: true })
})

describe('limits on what a pod can cost us', () => {
  it('stops a command that floods output, with a clear error, and stays usable', async () => {
    const c = conn({ maxOutputBytes: 1 << 20 })
    const err = await refusal(c.exec('yes podpull-flood', '', { what: '"status"' }))
    expect(err.code).toBe('too-large')
    expect(err.message).toMatch(/sent more than 1 MiB in answer to "status"/)
    expect((await c.exec('echo still-here')).stdout.trim()).toBe('still-here')
  })

  it('ends a line stream whose line never ends, and says why', async () => {
    const c = conn({ maxLineBytes: 1 << 20 })
    const lines: string[] = []
    const stream = await c.lines(
      "printf 'first\\n'; yes podpull | tr -d '\\n'",
      '',
      (l) => void lines.push(l)
    )
    await stream.done
    expect(lines).toEqual(['first'])
    expect(stream.error?.code).toBe('too-large')
    expect((await c.exec('echo still-here')).stdout.trim()).toBe('still-here')
  })

  it('gives up on a command that does not answer in time', async () => {
    const c = conn()
    const err = await refusal(c.exec('sleep 600', '', { timeoutMs: 1000, what: '"start"' }))
    expect(err.code).toBe('timeout')
    expect(err.message).toMatch(/did not answer "start" within 1 s/)
    // Its channel was given back: the full set still opens.
    const many = await Promise.all(
      Array.from({ length: 8 }, (_, i) => c.exec(`echo ${i}`, '', { timeoutMs: 60_000 }))
    )
    expect(many.map((r) => r.stdout.trim())).toEqual(['0', '1', '2', '3', '4', '5', '6', '7'])
  })

  it('queues channels beyond what sshd allows instead of failing them', async () => {
    const c = conn()
    const gate = join(tmp, 'gate')
    const started = join(tmp, 'started')
    writeFileSync(started, '')
    // Each command says it started, then waits for the test to open the gate.
    const cmd = (i: number): string =>
      `echo ${i} >> ${shellQuote(started)}; ` +
      `while [ ! -e ${shellQuote(gate)} ]; do sleep 0.05; done; echo done-${i}`
    const runs = Array.from({ length: 16 }, (_, i) => c.exec(cmd(i), '', { timeoutMs: 120_000 }))
    const count = (): number => readFileSync(started, 'utf8').split('\n').filter(Boolean).length
    await expect.poll(count, { timeout: 60_000 }).toBe(8)
    expect(count()).toBe(8) // the rest wait for a free channel
    writeFileSync(gate, '')
    const results = await Promise.all(runs)
    expect(results.map((r) => r.stdout.trim())).toEqual(
      Array.from({ length: 16 }, (_, i) => `done-${i}`)
    )
    expect(existsSync(gate)).toBe(true)
  })
})
