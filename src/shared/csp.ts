// The one Content-Security-Policy of the dashboard. The build writes it into
// index.html's <meta> (electron.vite.config.ts), and `podpull serve` and the
// app:// protocol send it as a header, so the page gets the same policy from
// Electron, from serve and from a file on disk.
export const CSP_DIRECTIVES: readonly string[] = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  // 'self' covers the WebSocket of `podpull serve` in current Chromium; the
  // explicit loopback entries keep older engines working.
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'"
]

/** The policy as the page's <meta> carries it. */
export const CSP_META = CSP_DIRECTIVES.join('; ')

/** The same policy as a header; frame-ancestors only works in a header. */
export const CSP_HEADER = `${CSP_META}; frame-ancestors 'none'`

/** `electron-vite dev` only: the dev server injects <style> tags (HMR). */
export const forDevServer = (policy: string): string =>
  policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
