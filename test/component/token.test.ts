import { beforeEach, describe, expect, it } from 'vitest'
import { apiSocketUrl, takeToken } from '../../src/renderer/bridge/token'

describe('headless token', () => {
  beforeEach(() => {
    sessionStorage.clear()
    window.history.replaceState(null, '', '/')
  })

  it('takes the token out of the address bar but keeps it for a reload', () => {
    window.history.replaceState(null, '', '/?token=s3cret&x=1#top')
    expect(takeToken()).toBe('s3cret')
    expect(window.location.search).toBe('?x=1')
    expect(window.location.hash).toBe('#top')
    expect(window.location.href).not.toContain('s3cret')
    // After a reload the address has no token any more: it comes from the tab's storage.
    expect(takeToken()).toBe('s3cret')
  })

  it('has no token when none was given', () => {
    expect(takeToken()).toBeNull()
  })

  it('builds the socket address from the page origin', () => {
    const loc = { protocol: 'http:', host: '127.0.0.1:7788' } as Location
    expect(apiSocketUrl(loc, 'a b')).toBe('ws://127.0.0.1:7788/api?token=a%20b')
    expect(apiSocketUrl({ protocol: 'https:', host: 'h' } as Location, 't')).toBe(
      'wss://h/api?token=t'
    )
  })
})
