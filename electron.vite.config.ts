import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'
import type { Plugin } from 'vite'
import { CSP_META, forDevServer } from './src/shared/csp'
import { writeTrayIcon } from './scripts/icons.mjs'
import { writeHelper } from './scripts/build-helper.mjs'

// The tray icon is rendered from resources/icon.svg, the one icon source.
const trayIcon: Plugin = { name: 'podpull-tray-icon', buildStart: () => writeTrayIcon() }

// The pod helper ships as one reproducible zipapp, out/helper/podpull_helper.pyz,
// built with the app so `npm run build`, pack:dir and dist all carry it.
const helperPyz: Plugin = { name: 'podpull-helper-pyz', buildStart: () => void writeHelper() }

// index.html's <meta> CSP is the one policy of src/shared/csp.ts (serve and the
// app:// scheme send the same one as a header).
const oneCsp: Plugin = {
  name: 'podpull-csp',
  transformIndexHtml: { order: 'pre', handler: (html) => html.replace('%PODPULL_CSP%', CSP_META) }
}

// The dev server injects <style> tags (HMR); the built app needs none, so only
// `electron-vite dev` loosens the page's style-src.
const devInlineStyles: Plugin = {
  name: 'podpull-dev-inline-styles',
  apply: 'serve',
  transformIndexHtml: (html) => html.replace(CSP_META, forDevServer(CSP_META))
}

// Main builds two entries: the Electron shell (index) and the plain-Node CLI /
// headless server (cli). Nothing reachable from cli may import 'electron';
// test/unit/cliBundle.test.ts checks the built output.
export default defineConfig({
  main: {
    plugins: [trayIcon, helperPyz],
    build: {
      // Bundle the pure-JS dependencies: one file loads far faster than
      // hundreds (CLI start-up ~0.45 s → see README). ssh2 (optional native
      // parts, loaded lazily) and electron-store stay external.
      externalizeDeps: {
        exclude: [
          'undici',
          'zod',
          'conf',
          'commander',
          'cli-progress',
          'content-disposition',
          'proper-lockfile',
          'write-file-atomic',
          'ws'
        ]
      },
      rolldownOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          cli: resolve(__dirname, 'src/cli/index.ts')
        }
      }
    }
  },
  preload: {
    build: {
      // A sandboxed preload must be CommonJS.
      rolldownOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    // Relative asset URLs: the same build is loaded from file:// by Electron and
    // served at / by `podpull serve`.
    base: './',
    build: {
      minify: true,
      rolldownOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } }
    },
    plugins: [vue(), oneCsp, devInlineStyles]
  }
})
