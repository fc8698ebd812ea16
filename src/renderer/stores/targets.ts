// Targets with their connection state, free space and last-seen time. Main
// always sends the whole list, so an update is a replacement.
import { defineStore } from 'pinia'
import { computed, shallowRef } from 'vue'
import type { TargetInfo } from '../../shared/types'

export const useTargetsStore = defineStore('targets', () => {
  const list = shallowRef<TargetInfo[]>([])
  const byId = computed(() => new Map(list.value.map((t) => [t.id, t])))

  function seed(targets: TargetInfo[]): void {
    list.value = targets
  }

  function name(id: string): string {
    return byId.value.get(id)?.name ?? 'unknown target'
  }

  function isOnline(id: string): boolean {
    return byId.value.get(id)?.connection === 'online'
  }

  return { list, byId, seed, name, isOnline }
})
