// Adding a pod: host key confirmation, helper upload once per version, and the
// one clear error for a pod without python3 or with a read-only workspace.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { pathWithout } from '../harness/pathWithout'
import { loadHelper } from '../../src/main/ssh/helperUpload'
import { NO_PYTHON } from '../../src/main/ssh/helperClient'
import { UserError } from '../../src/main/errors'
import { newStore, newWorkspace, podTarget, removeWorkspace } from '../support/podTarget'

let sshd: SshdHarness
const roots: string[] = []
const helper = loadHelper()

function workspace(): ReturnType<typeof newWorkspace> {
  const w = newWorkspace()
  roots.push(w.root)
  return w
}

async function rejection(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(UserError)
  return err as UserError
}

beforeAll(async () => {
  sshd = await startSshd()
})
afterAll(async () => {
  await sshd.close()
  roots.forEach(removeWorkspace)
})

describe('host key', () => {
  it('refuses an unknown key, tests it with the fingerprint, then trusts it once confirmed', async () => {
    const { ws, comfyui } = workspace()
    const store = newStore()
    const t = podTarget(sshd, store, { ws, comfyui })
    const err = await rejection(t.open())
    expect(err.code).toBe('host-key-unknown')
    expect(t.info().connection).toBe('error')
    await t.close()

    const probe = await podTarget(sshd, store, { ws, comfyui }).test()
    expect(probe).toMatchObject({
      ok: false,
      needsHostKeyConfirmation: true,
      fingerprint: sshd.hostKeyFingerprint
    })
    expect(store.knownHosts).toEqual({})

    const accepted = podTarget(sshd, store, { ws, comfyui, acceptHostKey: probe.fingerprint })
    await accepted.open()
    expect(store.knownHosts).toEqual({ [`127.0.0.1:${sshd.port}`]: sshd.hostKeyFingerprint })
    expect(accepted.info()).toMatchObject({ connection: 'online', comfyui, message: null })
    expect(accepted.info().freeBytes).toBeGreaterThan(0)
    expect((await accepted.test()).ok).toBe(true)
    await accepted.close()
  })

  it('refuses a pod whose host key changed, keeping the trusted one', async () => {
    const { ws, comfyui } = workspace()
    const store = newStore()
    const hostPort = `127.0.0.1:${sshd.port}`
    store.knownHosts[hostPort] = 'SHA256:' + 'Q'.repeat(43)
    const t = podTarget(sshd, store, { ws, comfyui, acceptHostKey: sshd.hostKeyFingerprint })
    const err = await rejection(t.open())
    expect(err.code).toBe('host-key-changed')
    expect(err.message).toBe(
      `The host key of ${hostPort} changed (was ${'SHA256:' + 'Q'.repeat(43)}, now ${sshd.hostKeyFingerprint}). ` +
        "If the pod was rebuilt, check the new key against the pod's console, then trust it: " +
        `"Trust new key" on the target, or podpull targets trust <name> --fingerprint ${sshd.hostKeyFingerprint}`
    )
    expect(store.knownHosts[hostPort]).toBe('SHA256:' + 'Q'.repeat(43))
    await t.close()
  })
})

describe('pod rebuilt while connected', () => {
  it('goes to error with the changed-key sentence instead of trusting the new key', async () => {
    const { ws, comfyui } = workspace()
    const store = newStore()
    const hostPort = `127.0.0.1:${sshd.port}`
    const old = sshd.hostKeyFingerprint
    store.knownHosts[hostPort] = old
    const t = podTarget(sshd, store, { ws, comfyui })
    await t.open()
    await sshd.regenerateHostKey()
    const end = Date.now() + 15_000
    while (t.info().connection !== 'error' && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50))
    expect(t.info()).toMatchObject({
      connection: 'error',
      message:
        `The host key of ${hostPort} changed (was ${old}, now ${sshd.hostKeyFingerprint}). ` +
        "If the pod was rebuilt, check the new key against the pod's console, then trust it: " +
        `"Trust new key" on the target, or podpull targets trust <name> --fingerprint ${sshd.hostKeyFingerprint}`
    })
    expect(store.knownHosts[hostPort]).toBe(old)
    await t.close()
  })
})

describe('helper', () => {
  it('is uploaded once per build, named by its content hash', async () => {
    const { ws, comfyui } = workspace()
    const store = newStore()
    store.knownHosts[`127.0.0.1:${sshd.port}`] = sshd.hostKeyFingerprint
    const remote = join(ws, '.podpull', `helper-${helper.sha256.slice(0, 16)}.pyz`)
    const first = podTarget(sshd, store, { ws, comfyui })
    await first.open()
    await first.close()
    const st = statSync(remote)
    expect(st.size).toBe(helper.content.length)
    const second = podTarget(sshd, store, { ws, comfyui })
    await second.open()
    await second.close()
    // Same inode: the second open found the helper intact and did not replace it.
    expect(statSync(remote).ino).toBe(st.ino)
  })
})

describe('pod problems get one clear error', () => {
  it('says python3 is missing', async () => {
    const bare = await startSshd({ sessionEnv: { PATH: pathWithout(['python3']) } })
    try {
      const { ws, comfyui } = workspace()
      const store = newStore()
      store.knownHosts[`127.0.0.1:${bare.port}`] = bare.hostKeyFingerprint
      const t = podTarget(bare, store, { ws, comfyui })
      const err = await rejection(t.open())
      expect(err.message).toBe(NO_PYTHON)
      expect(t.info()).toMatchObject({ connection: 'error', message: NO_PYTHON })
      await t.close()
      expect(await podTarget(bare, store, { ws, comfyui }).test()).toMatchObject({
        ok: false,
        message: NO_PYTHON
      })
    } finally {
      await bare.close()
    }
  })

  it('says the workspace is not writable', async () => {
    const { root } = workspace()
    const ws = join(root, 'readonly')
    mkdirSync(ws)
    chmodSync(ws, 0o555)
    // root ignores permission bits: make the folder immutable instead.
    const asRoot = process.getuid?.() === 0
    if (asRoot) execFileSync('chattr', ['+i', ws])
    try {
      const store = newStore()
      store.knownHosts[`127.0.0.1:${sshd.port}`] = sshd.hostKeyFingerprint
      const t = podTarget(sshd, store, { ws })
      const err = await rejection(t.open())
      expect(err.code).toBe('unwritable')
      expect(err.message).toBe(`The workspace ${ws} is not writable on the pod.`)
      expect(existsSync(join(ws, '.podpull'))).toBe(false)
      await t.close()
    } finally {
      if (asRoot) execFileSync('chattr', ['-i', ws])
      chmodSync(ws, 0o755)
    }
  })

  it('refuses a workspace path that would need shell quoting', async () => {
    const store = newStore()
    const t = podTarget(sshd, store, { ws: '/tmp/a b;rm -rf x' })
    const err = await rejection(t.open())
    expect(err.code).toBe('bad-request')
    expect(err.message).toContain('must be an absolute path made of letters, digits')
  })
})
