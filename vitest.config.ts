import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          typecheck: {
            enabled: true,
            include: ['test/unit/**/*.test-d.ts'],
            tsconfig: 'tsconfig.node.json'
          }
        }
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000
        }
      },
      {
        test: {
          name: 'bench',
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
          hookTimeout: 120_000
        }
      },
      {
        plugins: [vue()],
        test: {
          name: 'component',
          include: ['test/component/**/*.test.ts'],
          environment: 'happy-dom'
        }
      }
    ]
  }
})
