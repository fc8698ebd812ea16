// Where tokens live: with a keyring they are sealed in the store; without one
// (the desktop on Linux without Secret Service) they are kept in memory only,
// over the environment, and the status says no keyring holds them.
import { describe, expect, it } from 'vitest'
import { memoryTokenStore, sealedTokenStore } from '../../src/main/core/tokenStore'

describe('token stores', () => {
  it('without a keyring: typed tokens live in memory, over the environment', () => {
    const t = memoryTokenStore({ HF_TOKEN: 'from-env' })
    expect(t.status()).toEqual({ hf: true, civitai: false, runpod: false, editable: true })
    expect(t.status().keyring).toBeUndefined()
    t.set!('civitai', 'typed')
    t.set!('hf', 'typed-hf')
    expect([t.get('hf'), t.get('civitai')]).toEqual(['typed-hf', 'typed'])
    t.set!('hf', null)
    expect(t.get('hf')).toBe('from-env')
    // A new run (a new store) has only the environment again.
    expect(memoryTokenStore({}).get('civitai')).toBeUndefined()
  })

  it('with a keyring: the status says so', () => {
    let saved: Record<string, string> = {}
    const box = { encrypt: (s: string) => `sealed:${s}`, decrypt: (s: string) => s.slice(7) }
    const t = sealedTokenStore(
      box,
      () => saved,
      (x) => (saved = x as Record<string, string>),
      {}
    )
    t.set!('hf', 'x')
    expect(saved).toEqual({ hf: 'sealed:x' })
    expect(t.status()).toEqual({
      hf: true,
      civitai: false,
      runpod: false,
      editable: true,
      keyring: true
    })
  })

  it('the RunPod API key: sealed like the tokens when saved, else RUNPOD_API_KEY', () => {
    let saved: Record<string, string> = {}
    const box = { encrypt: (s: string) => `sealed:${s}`, decrypt: (s: string) => s.slice(7) }
    const t = sealedTokenStore(
      box,
      () => saved,
      (x) => (saved = x as Record<string, string>),
      { RUNPOD_API_KEY: 'rpa_from_env' }
    )
    expect(t.get('runpod')).toBe('rpa_from_env')
    expect(t.status().runpod).toBe(true)
    t.set!('runpod', 'rpa_typed')
    expect(saved).toEqual({ runpod: 'sealed:rpa_typed' })
    expect(t.get('runpod')).toBe('rpa_typed')
    t.set!('runpod', null)
    expect(t.get('runpod')).toBe('rpa_from_env')
    expect(
      sealedTokenStore(
        box,
        () => ({}),
        () => undefined,
        {}
      ).status().runpod
    ).toBe(false)
  })
})
