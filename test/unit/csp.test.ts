// The one CSP: strict in every build; only the dev server's page may use inline
// styles (Vite's HMR injects <style> tags).
import { expect, it } from 'vitest'
import { CSP_HEADER, CSP_META, forDevServer } from '../../src/shared/csp'

it('the header is the page policy plus frame-ancestors; no inline code anywhere', () => {
  expect(CSP_HEADER).toBe(`${CSP_META}; frame-ancestors 'none'`)
  expect(CSP_META).not.toContain('unsafe')
  expect(CSP_META).toContain("script-src 'self'")
  expect(CSP_META).toContain("object-src 'none'")
})

it('the dev server loosens style-src only', () => {
  const dev = forDevServer(CSP_HEADER)
  expect(dev).toContain("style-src 'self' 'unsafe-inline'")
  expect(dev.replace(" 'unsafe-inline'", '')).toBe(CSP_HEADER)
  expect(dev).toContain("script-src 'self';")
})
