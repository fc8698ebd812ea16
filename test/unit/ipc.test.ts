// The Electron adapter with a stand-in for ipcMain (the Electron binary cannot
// run here): one handler per channel, foreign senders refused, arguments
// validated, errors carried as {code, message}.
import { describe, expect, it } from 'vitest'
import { API_METHODS, ipcChannel } from '../../src/shared/api'
import { registerIpcHandlers } from '../../src/main/electron/ipc'
import { makeTestApp } from '../support/testApp'

type Handler = (e: { senderFrame: { url: string } }, args: unknown) => Promise<unknown>

function fakeIpcMain() {
  const handlers = new Map<string, Handler>()
  return {
    handlers,
    handle: (ch: string, fn: Handler) => {
      if (handlers.has(ch)) throw new Error(`second handler for ${ch}`)
      handlers.set(ch, fn)
    },
    removeHandler: (ch: string) => handlers.delete(ch)
  }
}

describe('registerIpcHandlers', () => {
  it('registers exactly one handler per contract channel and can remove them', async () => {
    const { handlers } = await makeTestApp()
    const ipc = fakeIpcMain()
    const off = registerIpcHandlers(ipc as never, handlers, () => true)
    expect([...ipc.handlers.keys()].sort()).toEqual(API_METHODS.map(ipcChannel).sort())
    off()
    expect(ipc.handlers.size).toBe(0)
  })

  it('refuses a sender that is not our page', async () => {
    const { handlers } = await makeTestApp()
    const ipc = fakeIpcMain()
    registerIpcHandlers(
      ipc as never,
      handlers,
      (e) => e.senderFrame?.url.startsWith('file:///app/') ?? false
    )
    const h = ipc.handlers.get(ipcChannel('getSnapshot'))!
    await expect(h({ senderFrame: { url: 'https://evil.example/' } }, {})).rejects.toThrow(
      /Refused/
    )
    await expect(h({ senderFrame: { url: 'file:///app/index.html' } }, {})).resolves.toMatchObject({
      ok: true
    })
  })

  it('validates arguments and carries errors as data', async () => {
    const { handlers } = await makeTestApp()
    const ipc = fakeIpcMain()
    registerIpcHandlers(ipc as never, handlers, () => true)
    const h = ipc.handlers.get(ipcChannel('setSettings'))!
    const res = await h({ senderFrame: { url: 'file:///' } }, { connections: 'eight' })
    expect(res).toMatchObject({
      ok: false,
      e: { code: 'bad-request', message: expect.stringContaining('connections') }
    })
  })
})
