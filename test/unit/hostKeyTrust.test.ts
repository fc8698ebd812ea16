// Host key fingerprints match OpenSSH's, and the trust decisions a user relies on.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decideHostKey, fingerprintOf, type KnownHosts } from '../../src/main/ssh/hostKeyTrust'

function known(init: Record<string, string> = {}): KnownHosts & { map: Record<string, string> } {
  const map = { ...init }
  return { map, get: (k) => map[k], set: (k, v) => void (map[k] = v) }
}

describe('fingerprintOf', () => {
  it.each(['ed25519', 'rsa', 'ecdsa'])('prints what ssh-keygen -lf prints for %s', (type) => {
    const dir = mkdtempSync(join(tmpdir(), 'podpull-fp-'))
    try {
      const key = join(dir, 'k')
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', key])
      const blob = Buffer.from(readFileSync(`${key}.pub`, 'utf8').split(' ')[1]!, 'base64')
      const expected = execFileSync('ssh-keygen', ['-lf', `${key}.pub`], { encoding: 'utf8' })
      expect(fingerprintOf(blob)).toBe(expected.split(' ')[1])
      expect(fingerprintOf(blob)).not.toMatch(/=$/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('decideHostKey', () => {
  const fp = 'SHA256:' + 'b'.repeat(43)
  const other = 'SHA256:' + 'c'.repeat(43)

  it('trusts a stored key without storing again', () => {
    const kh = known({ 'pod:22': fp })
    expect(decideHostKey('pod:22', fp, kh)).toEqual({ ok: true, fingerprint: fp, stored: false })
  })

  it('asks about an unknown key and stores nothing', () => {
    const kh = known()
    const d = decideHostKey('pod:22', fp, kh)
    expect(d.ok).toBe(false)
    if (!d.ok) {
      expect(d.error.code).toBe('host-key-unknown')
      expect(d.error.fingerprint).toBe(fp)
    }
    expect(kh.map).toEqual({})
  })

  it('stores an unknown key the user confirmed', () => {
    const kh = known()
    expect(decideHostKey('pod:22', fp, kh, fp).ok).toBe(true)
    expect(kh.map).toEqual({ 'pod:22': fp })
  })

  it('does not store a key other than the confirmed one', () => {
    const kh = known()
    expect(decideHostKey('pod:22', fp, kh, other).ok).toBe(false)
    expect(kh.map).toEqual({})
  })

  it('refuses a changed key even when the new one is "confirmed"', () => {
    const kh = known({ 'pod:22': fp })
    const d = decideHostKey('pod:22', other, kh, other)
    expect(d.ok).toBe(false)
    if (!d.ok) {
      expect(d.error.code).toBe('host-key-changed')
      expect(d.error.message).toBe(
        `The host key of pod:22 changed (was ${fp}, now ${other}). ` +
          "If the pod was rebuilt, check the new key against the pod's console, then trust it: " +
          `"Trust new key" on the target, or podpull targets trust <name> --fingerprint ${other}`
      )
    }
    expect(kh.map).toEqual({ 'pod:22': fp })
  })

  it('keeps ports apart', () => {
    const kh = known({ 'pod:22': fp })
    expect(decideHostKey('pod:2222', fp, kh).ok).toBe(false)
  })
})
