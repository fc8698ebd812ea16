import { defineConfig } from '@playwright/test'

// Debian's Chromium; Playwright downloads nothing when given executablePath.
export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  workers: 1,
  // .ci/run names a file for a closing summary of the failures (test/reporters/).
  reporter: process.env.PODPULL_TEST_SUMMARY
    ? [['list'], ['./test/reporters/playwrightSummary.ts']]
    : [['list']],
  use: {
    headless: true,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic'
      ]
    }
  }
})
