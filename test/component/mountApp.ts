// Mounts a container component against a fake bridge through the real session
// store (seeded from the fake's snapshot), as main.ts does at start-up.
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type { Component } from 'vue'
import { useSessionStore } from '../../src/renderer/stores/session'
import type { FakeBridge } from './fixtures'

export async function mountWith(component: Component, fake: FakeBridge, props = {}) {
  const pinia = createPinia()
  setActivePinia(pinia)
  await useSessionStore().start({
    api: fake.api,
    onReconnect: () => () => undefined,
    onConnectionChange: () => () => undefined
  })
  const wrapper = mount(component, { props, global: { plugins: [pinia] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}
