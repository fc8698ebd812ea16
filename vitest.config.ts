import { readFileSync, readdirSync } from 'node:fs'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

/** The integration files that start a real sshd (directly, through a pod
 *  target or the pod conformance table): they form the `ssh` project, which
 *  .ci/run runs in its own vitest process beside the rest. Found by what the
 *  file imports, so a new file lands in the right project by itself. */
const SSHD_USERS = /\bstartSshd\b|support\/(podTarget|volumeFill)'|conformance\/podConformance'/
const integrationDir = new URL('test/integration/', import.meta.url)
const sshFiles = readdirSync(integrationDir)
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => SSHD_USERS.test(readFileSync(new URL(f, integrationDir), 'utf8')))
  .map((f) => `test/integration/${f}`)

// Builds out/helper/podpull_helper.pyz, which the projects that run the pod helper use.
const HELPER_SETUP = 'test/harness/buildHelper.setup.ts'

export default defineConfig({
  test: {
    // .ci/run names a file for a closing summary of the failures (test/reporters/).
    reporters: process.env.PODPULL_TEST_SUMMARY
      ? ['default', './test/reporters/vitestSummary.ts']
      : ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          globalSetup: [HELPER_SETUP],
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Some unit tests start python3 or ESLint: on a loaded 2-core machine
          // that alone can pass vitest's 5 s default. A bound for hangs only.
          // The type-level tests (*.test-d.ts) are checked by `npm run typecheck`
          // (tsconfig.node.json takes in test/): vitest's own typecheck was a
          // second tsc over the same program. typeTests.test.ts proves the cover.
          testTimeout: 60_000
        }
      },
      {
        test: {
          name: 'integration',
          globalSetup: [HELPER_SETUP],
          include: ['test/integration/**/*.test.ts'],
          exclude: sshFiles,
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000
        }
      },
      {
        test: {
          name: 'ssh',
          globalSetup: [HELPER_SETUP],
          include: sshFiles,
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000
        }
      },
      {
        test: {
          name: 'bench',
          globalSetup: [HELPER_SETUP],
          include: ['bench/**/*.bench.ts'],
          environment: 'node',
          testTimeout: 900_000,
          hookTimeout: 120_000,
          fileParallelism: false
        }
      },
      {
        // The Electron shell on the built bundle (needs `npm run build` first).
        test: {
          name: 'shell',
          globalSetup: [HELPER_SETUP],
          include: ['test/shell/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // electron-store imports 'electron': run it through vitest so the fake applies.
          server: { deps: { inline: ['electron-store'] } }
        }
      },
      {
        // The README's quick start on a fresh clone of the committed HEAD: npm ci,
        // builds and launches (a stand-in Electron). Minutes, not seconds: the
        // bounds only stop a hung install.
        test: {
          name: 'clone',
          include: ['test/clone/**/*.test.ts'],
          environment: 'node',
          testTimeout: 900_000,
          // Cloning, and removing the clone's node_modules, on a loaded machine.
          hookTimeout: 600_000
        }
      },
      {
        plugins: [vue()],
        test: {
          name: 'component',
          include: ['test/component/**/*.test.ts'],
          environment: 'happy-dom',
          // Mounting the whole App under a loaded CI machine; a bound for hangs only.
          testTimeout: 30_000
        }
      }
    ]
  }
})
