import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { pickBridge } from './bridge'
import { useSessionStore } from './stores/session'
import './styles/theme.css'

const app = createApp(App)
app.use(createPinia())
// Start loading before mounting so the snapshot request is already in flight.
void useSessionStore().start(pickBridge())
app.mount('#app')
