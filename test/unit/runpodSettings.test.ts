// The RunPod bits of the handler table that need no network: stop-when-done is
// a RunPod-linked pod's switch (refused, and nothing changed, for any other
// target), and the RunPod key's status reaches the UI without its value.
import { describe, expect, it } from 'vitest'
import { invokeMethod } from '../../src/main/api/dispatch'
import { makeTestApp } from '../support/testApp'

describe('RunPod settings in the handler table', () => {
  it('refuses stop-when-done for a target not imported from RunPod, changing nothing', async () => {
    const { handlers, store } = await makeTestApp()
    const t = await handlers.addTarget({
      kind: 'local',
      name: 'studio',
      comfyui: '/x/ComfyUI'
    })
    await expect(
      invokeMethod(handlers, 'updateTarget', { id: t.id, patch: { stopWhenDone: true } })
    ).rejects.toMatchObject({
      code: 'bad-request',
      message: 'Stop-when-done applies to pods imported from RunPod only.'
    })
    expect(store.get('targets')[0]?.config).not.toHaveProperty('stopWhenDone')
  })

  it('reports RUNPOD_API_KEY as set, never its value', async () => {
    const { handlers } = await makeTestApp({ RUNPOD_API_KEY: 'rpa_unit_secret_42' })
    const status = await handlers.getTokenStatus({})
    expect(status.runpod).toBe(true)
    const snap = await invokeMethod(handlers, 'getSnapshot', {})
    expect(JSON.stringify(snap)).not.toContain('rpa_unit_secret_42')
    await expect(
      invokeMethod(handlers, 'setToken', { kind: 'runpod', value: 'x' })
    ).rejects.toMatchObject({
      code: 'read-only',
      message: expect.stringContaining('RUNPOD_API_KEY')
    })
  })
})
