import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import vue from 'eslint-plugin-vue'

/** One `no-restricted-imports` block per folder: what that folder must not import, and why. */
const layers = [
  {
    folder: 'engine',
    banned: ['status', 'targets'],
    why: 'the engine moves bytes and reports progress; the status file and targets build on it'
  },
  { folder: 'ssh', banned: ['targets'], why: 'targets build on ssh, not the other way' },
  { folder: 'sources', banned: ['targets'], why: 'targets build on sources, not the other way' },
  { folder: 'models', banned: ['targets'], why: 'targets build on models, not the other way' },
  { folder: 'targets', banned: ['core'], why: 'the core drives targets; targets get a context' },
  {
    folder: 'electron',
    banned: ['headless'],
    why: 'the Electron shell and `podpull serve` are peers'
  }
]
const layerRules = layers.map(({ folder, banned, why }) => ({
  files: [`src/main/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: banned.map((b) => ({
          group: [`**/${b}`, `**/${b}/*`],
          message: `src/main/${folder}/ must not import src/main/${b}/: ${why}.`
        }))
      }
    ]
  }
}))

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
  // Layers point one way (issue 9): each folder may not import the ones that
  // build on it. test/unit/layers.test.ts proves a wrong-way import fails.
  ...layerRules
)
