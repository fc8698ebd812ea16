// Settings, which tokens are set (never their values), and what kind of host
// we run in (electron shows native-only actions such as Browse… / Open folder).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { DEFAULT_SETTINGS, type Settings, type TokenStatus } from '../../shared/types'

export const useSettingsStore = defineStore('settings', () => {
  const settings = ref<Settings>({ ...DEFAULT_SETTINGS })
  const tokens = ref<TokenStatus>({ hf: false, civitai: false, editable: false })
  const host = ref<'electron' | 'headless'>('headless')

  function seed(s: { settings: Settings; tokens: TokenStatus; host: 'electron' | 'headless' }) {
    settings.value = s.settings
    tokens.value = s.tokens
    host.value = s.host
  }

  return { settings, tokens, host, seed }
})
