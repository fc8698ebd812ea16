import { afterEach, describe, expect, it } from 'vitest'
import { pickBridge } from '../../src/renderer/bridge'
import { fakeBridge } from './fixtures'

afterEach(() => {
  delete window.podpull
})

describe('bridge choice', () => {
  it("uses Electron's preload bridge when there is one, with no reconnect events", () => {
    const fake = fakeBridge()
    window.podpull = fake.api
    const conn = pickBridge()
    expect(conn.api).toBe(fake.api)
    let fired = false
    conn.onReconnect(() => (fired = true))()
    expect(fired).toBe(false)
  })
})
