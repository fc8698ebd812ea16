import js from '@eslint/js'
import { join } from 'node:path'
import tseslint from 'typescript-eslint'
import vue from 'eslint-plugin-vue'
import { layersRule } from './eslint-rules/layers.js'

/**
 * Which way imports point, as an allow-list (VS Code's layering): every layer
 * of src/ names the layers it may import, and why it sits where it does. A
 * relative import into any other layer fails `npm run lint` with that reason
 * (eslint-rules/layers.js); so does a new folder or root file of src/main that
 * is not in this table. test/unit/layers.test.ts proves both.
 * Below every layer of main: the contract (`shared`) and the error classes.
 */
const base = ['shared', 'main/errors']
const layers = {
  shared: { may: [], why: 'the contract and plain types; the renderer uses it too' },
  renderer: { may: ['shared'], why: 'the dashboard reaches main only through the contract' },
  preload: { may: ['shared'], why: 'the preload exposes exactly the contract' },
  cli: {
    may: ['shared', 'main/app', 'main/api', 'main/headless', 'main/settings'],
    why: 'the command line is a front end: it assembles the app and calls the handler table'
  },
  'main/errors': { may: ['shared'], why: 'the error classes sit below every layer of main' },
  'main/resourcePaths': { may: [], why: 'any layer may ask where a bundled resource is' },
  'main/settings': { may: base, why: 'the persisted store builds on the contract only' },
  'main/engine': {
    may: base,
    why: 'the engine moves bytes and reports progress; the status file and targets build on it'
  },
  'main/status': {
    may: [...base, 'main/engine'],
    why: 'the status file records what the engine does; targets build on it'
  },
  'main/models': {
    may: [...base, 'main/engine'],
    why: 'ComfyUI knowledge and inventory; sources and targets build on it'
  },
  'main/sources': {
    may: [...base, 'main/engine', 'main/models'],
    why: 'links, hubs and tokens (resolvers suggest ComfyUI folders); targets build on it'
  },
  'main/ssh': {
    may: [...base, 'main/resourcePaths'],
    why: 'the SSH connection and the helper client; pod targets build on it'
  },
  'main/targets': {
    may: [...base, 'main/engine', 'main/status', 'main/models', 'main/sources', 'main/ssh'],
    why: 'a target drives the engine or the helper; the core drives targets and hands them a context'
  },
  'main/core': {
    may: [...base, 'main/settings', 'main/ssh', 'main/targets'],
    why: 'the core owns targets, settings and tokens; the API builds on it'
  },
  'main/runpod': {
    may: [...base, 'main/core', 'main/ssh', 'main/targets'],
    why: "RunPod's account API and its handlers sit on the core; the API builds on them"
  },
  'main/api': {
    may: [...base, 'main/core', 'main/models', 'main/runpod', 'main/sources'],
    why: 'the one handler table over the core; the front ends build on it'
  },
  'main/diagnostics': {
    may: [...base, 'main/api', 'main/core', 'main/sources', 'main/ssh', 'main/targets'],
    why: 'logs and the bug-report archive observe the layers below; only the app assembly builds on them'
  },
  'main/electron': {
    may: [...base, 'main/api'],
    why: 'the Electron shell speaks the API; it and `podpull serve` are peers'
  },
  'main/headless': {
    may: [...base, 'main/api'],
    why: '`podpull serve` speaks the API; it and the Electron shell are peers'
  },
  'main/createTarget': {
    may: [...base, 'main/core', 'main/runpod', 'main/settings', 'main/sources', 'main/targets'],
    why: 'targets are built where the app is assembled'
  },
  'main/app': {
    may: [
      ...base,
      'main/api',
      'main/core',
      'main/createTarget',
      'main/diagnostics',
      'main/settings'
    ],
    why: 'the app is assembled here for every front end; only the front ends import it'
  },
  'main/index': {
    may: [...base, 'main/app', 'main/core', 'main/electron', 'main/settings', 'main/resourcePaths'],
    why: 'the Electron entry point wires the shell to the assembled app; nothing imports it'
  }
}

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'dist/**',
      'build/**',
      'node_modules/**',
      'test-results/**',
      'playwright-report/**',
      'resources/**'
    ]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } }
  },
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        window: 'readonly',
        document: 'readonly'
      }
    },
    rules: {
      // TypeScript already checks names (and knows DOM / Node globals); no-undef only misfires.
      'no-undef': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }
      ],
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off'
    }
  },
  {
    files: ['src/**/*.ts', 'src/**/*.vue'],
    plugins: { podpull: { rules: { layers: layersRule } } },
    rules: {
      'podpull/layers': ['error', { srcDir: join(import.meta.dirname, 'src'), layers }]
    }
  }
)
