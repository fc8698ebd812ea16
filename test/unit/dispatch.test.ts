import { describe, expect, it } from 'vitest'
import { API_METHODS } from '../../src/shared/api'
import { invokeMethod, toApiError } from '../../src/main/api/dispatch'
import { makeTestApp } from '../support/testApp'

describe('the handler table', () => {
  it('has a handler for every contract method and nothing else', async () => {
    const { handlers } = await makeTestApp()
    expect(Object.keys(handlers).sort()).toEqual([...API_METHODS].sort())
  })
})

describe('argument validation before any handler runs', () => {
  const bad: [string, unknown, RegExp][] = [
    ['startDownload', { targetId: 't', url: 'ftp://x/y.bin' }, /url must be an http\(s\) URL/],
    [
      'startDownload',
      { targetId: 't', url: 'javascript:alert(1)' },
      /url must be an http\(s\) URL/
    ],
    [
      'startDownload',
      { targetId: 't', url: 'https://x/y', folder: '../../etc' },
      /folder must stay inside models/
    ],
    [
      'startDownload',
      { targetId: 't', url: 'https://x/y', filename: '../evil' },
      /filename must be a plain file name/
    ],
    [
      'startDownload',
      { targetId: 't', url: 'https://x/y', sha256: 'abc' },
      /sha256 must be 64 hex/
    ],
    ['startDownload', { url: 'https://x/y' }, /targetId/],
    [
      'addTarget',
      { kind: 'local', name: 'x', comfyui: 'relative/path' },
      /comfyui must be an absolute path/
    ],
    ['addTarget', { kind: 'ssh', name: 'p', host: 'h', port: 70000 }, /port/],
    ['addTarget', { kind: 'ftp', name: 'p' }, /kind/],
    ['setSettings', { concurrency: 0 }, /concurrency/],
    ['setSettings', { bogus: 1 }, /bogus|Unrecognized/],
    ['getSnapshot', { extra: true }, /Unrecognized|extra/],
    ['setToken', { kind: 'github', value: 'x' }, /kind/]
  ]
  it.each(bad)('%s %j is refused with a clear error', async (method, args, message) => {
    const { handlers, targets } = await makeTestApp()
    const err = await invokeMethod(handlers, method, args).catch((e: unknown) => e)
    expect(toApiError(err)).toMatchObject({
      code: 'bad-request',
      message: expect.stringMatching(message)
    })
    expect(String((err as Error).message)).toContain(method)
    // Nothing reached a target.
    for (const t of targets.values()) expect(t.calls).toEqual([])
  })

  it('refuses an unknown method', async () => {
    const { handlers } = await makeTestApp()
    await expect(invokeMethod(handlers, 'deleteEverything', {})).rejects.toMatchObject({
      code: 'unknown-method'
    })
    await expect(invokeMethod(handlers, '__proto__', {})).rejects.toMatchObject({
      code: 'unknown-method'
    })
  })

  it('passes valid arguments through, normalised', async () => {
    const { handlers, targets } = await makeTestApp()
    const t = (await invokeMethod(handlers, 'addTarget', {
      kind: 'local',
      name: 'ws',
      comfyui: '/srv/ComfyUI'
    })) as { id: string; config: { workspace: string } }
    expect(t.config.workspace).toBe('/srv')
    const sha = 'A'.repeat(64)
    await invokeMethod(handlers, 'startDownload', {
      targetId: t.id,
      url: 'https://h/x.safetensors',
      sha256: sha
    })
    expect(targets.get(t.id)!.calls).toEqual([
      'start https://h/x.safetensors checkpoints model.safetensors'
    ])
  })
})

describe('targets', () => {
  it('refuses a folder that is not a ComfyUI install, and duplicate names', async () => {
    const { handlers, store } = await makeTestApp()
    await expect(
      invokeMethod(handlers, 'addTarget', { kind: 'local', name: 'a', comfyui: '/x/not-comfy' })
    ).rejects.toMatchObject({ code: 'not-comfyui', message: expect.stringContaining('models/') })
    await invokeMethod(handlers, 'addTarget', { kind: 'local', name: 'a', comfyui: '/x/ComfyUI' })
    await expect(
      invokeMethod(handlers, 'addTarget', { kind: 'local', name: 'a', comfyui: '/y/ComfyUI' })
    ).rejects.toMatchObject({ code: 'exists' })
    expect(store.get('targets')).toHaveLength(1)
  })

  it('tokens: status only, never the value; env-only stores refuse to set', async () => {
    const { handlers } = await makeTestApp({ HF_TOKEN: 'hf_secret_value' })
    const status = await invokeMethod(handlers, 'getTokenStatus', {})
    expect(status).toEqual({ hf: true, civitai: false, runpod: false, editable: false })
    const snap = await invokeMethod(handlers, 'getSnapshot', {})
    expect(JSON.stringify(snap)).not.toContain('hf_secret_value')
    await expect(
      invokeMethod(handlers, 'setToken', { kind: 'hf', value: 'x' })
    ).rejects.toMatchObject({ code: 'read-only', message: expect.stringContaining('HF_TOKEN') })
  })

  it('settings persist and emit an event', async () => {
    const { handlers, core, store } = await makeTestApp()
    const seen: unknown[] = []
    core.on('settingsChanged', (s) => seen.push(s))
    const next = await invokeMethod(handlers, 'setSettings', { concurrency: 5 })
    expect(next).toMatchObject({ concurrency: 5, connections: 8 })
    expect(store.get('settings').concurrency).toBe(5)
    expect(seen).toHaveLength(1)
  })
})
