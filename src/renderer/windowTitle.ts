// The window (and browser tab) title says what is running, so it can be read
// from the taskbar or another window: "PodPull — 2 downloading · 1 queued".
import type { JobState } from '../shared/types'

export function windowTitle(counts: Partial<Record<JobState, number>>, progress: number): string {
  const parts: string[] = []
  const down = counts.downloading ?? 0
  const queued = counts.queued ?? 0
  if (down) parts.push(`${down} downloading`)
  if (queued) parts.push(`${queued} queued`)
  if (!parts.length) return 'PodPull'
  if (down) parts.push(`${Math.floor(progress)}%`)
  return `PodPull — ${parts.join(' · ')}`
}
