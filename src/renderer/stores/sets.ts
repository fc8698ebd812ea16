// Applying a model set to several targets from the dashboard: the set read
// from a file or pasted text, what each chosen target lacks and has (main's
// planSet), then main's applySet on every target at once. Progress and the
// end summary follow the started downloads in the downloads store, which is
// seeded from the snapshot and patched by downloadsChanged events.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { ModelSetError, parseModelSet, type ModelSet } from '../../shared/modelSet'
import type { FillPlan } from '../../shared/runpod'
import {
  ACTIVE_STATES,
  type DownloadRecord,
  type SetApplyStart,
  type SetEntryNote,
  type SetPlanItem,
  type TargetInfo
} from '../../shared/types'
import { useSessionStore } from './session'
import { useDownloadsStore } from './downloads'
import { useTargetsStore } from './targets'

/** One target's part of the set: its plan, then what was started there. */
export interface TargetPart {
  targetId: string
  plan: SetPlanItem[] | null
  /** A volume target with no pod running: what filling it through a CPU pod costs. */
  fill: FillPlan | null
  start: SetApplyStart | null
  /** Why this target could not be planned or applied at all. */
  error: string | null
}

export interface PartProgress {
  downloaded: number
  size: number
  /** 0..100 over the started downloads of known size (100 when nothing to fetch). */
  percent: number
  done: boolean
}

export interface PartSummary {
  targetId: string
  fetched: string[]
  skipped: string[]
  failed: { label: string; why: string }[]
}

const MAX_SET_TEXT = 16 << 20

const isVolume = (t: TargetInfo | undefined): boolean =>
  t?.config.kind === 'ssh' && !!t.config.runpodVolume
/** A pod PodPull can stop through the RunPod API (not a volume's fill pod). */
export const isStoppablePod = (t: TargetInfo | undefined): boolean =>
  t?.config.kind === 'ssh' && !!t.config.runpodPodId && !t.config.runpodVolume

export const useSetsStore = defineStore('sets', () => {
  const session = useSessionStore()
  const downloads = useDownloadsStore()
  const targets = useTargetsStore()

  const set = shallowRef<ModelSet | null>(null)
  const problems = ref<string[]>([])
  const chosen = ref<string[]>([])
  const parts = ref<TargetPart[]>([])
  const phase = ref<'idle' | 'planning' | 'planned' | 'applying' | 'applied'>('idle')

  /** Reads a set's text; its problems (each with its entry and line) when it is not one. */
  function load(text: string): boolean {
    reset()
    if (text.length > MAX_SET_TEXT) {
      problems.value = ['larger than 16 MiB; not a model set']
      return false
    }
    try {
      set.value = parseModelSet(text)
      return true
    } catch (err) {
      set.value = null
      problems.value = err instanceof ModelSetError ? err.problems : [(err as Error).message]
      return false
    }
  }

  function reset(): void {
    problems.value = []
    parts.value = []
    phase.value = 'idle'
  }

  async function planOne(targetId: string, s: ModelSet): Promise<TargetPart> {
    const api = session.requireApi()
    const part: TargetPart = { targetId, plan: null, fill: null, start: null, error: null }
    try {
      part.plan = await api.planSet({ targetId, set: s })
      const t = targets.byId.get(targetId)
      const fetch = part.plan.filter((i) => i.action === 'fetch')
      if (isVolume(t) && !t?.fillPod && fetch.length) {
        // Sizes the set names give the plan its "≈ $X in all".
        const bytes = fetch.reduce((n, i) => n + (s.models[i.index]?.size ?? 0), 0)
        part.fill = (
          await api.runpodFill({ targetId, accept: false, ...(bytes ? { bytes } : {}) })
        ).plan
      }
    } catch (err) {
      part.error = (err as Error).message
    }
    return part
  }

  /** What each chosen target lacks and has; nothing is started. */
  async function plan(): Promise<void> {
    const s = set.value
    if (!s || !chosen.value.length) return
    phase.value = 'planning'
    parts.value = await Promise.all(chosen.value.map((id) => planOne(id, s)))
    phase.value = 'planned'
  }

  async function applyOne(part: TargetPart, s: ModelSet, stopPods: boolean): Promise<void> {
    const api = session.requireApi()
    const t = targets.byId.get(part.targetId)
    try {
      if (part.fill) await api.runpodFill({ targetId: part.targetId, accept: true })
      if (stopPods && isStoppablePod(t))
        await api.updateTarget({ id: part.targetId, patch: { stopWhenDone: true } })
      part.start = await api.applySet({ targetId: part.targetId, set: s })
    } catch (err) {
      part.error = (err as Error).message
    }
  }

  /** Starts what every planned target lacks, all targets at once. `stopPods`:
   *  the set's RunPod pods stop once their downloads have ended. */
  async function apply(stopPods = false): Promise<void> {
    const s = set.value
    if (!s || phase.value !== 'planned') return
    phase.value = 'applying'
    const live = parts.value.filter((p) => !p.error)
    await Promise.all(live.map((p) => applyOne(p, s, stopPods)))
    parts.value = [...parts.value] // the parts changed in place: show them
    phase.value = 'applied'
  }

  const recordsOf = (p: TargetPart): (DownloadRecord | undefined)[] =>
    (p.start?.started ?? []).map((x) => downloads.records.get(x.id))

  function progressOf(p: TargetPart): PartProgress {
    let downloaded = 0
    let size = 0
    let done = !!p.start || !!p.error
    for (const r of recordsOf(p)) {
      if (!r || ACTIVE_STATES.includes(r.state)) done = false
      if (r?.fileSize) {
        size += r.fileSize
        downloaded += Math.min(r.downloaded, r.fileSize)
      }
    }
    const percent = size ? Math.floor((downloaded * 100) / size) : done ? 100 : 0
    return { downloaded, size, percent, done }
  }

  const progress = computed(() => new Map(parts.value.map((p) => [p.targetId, progressOf(p)])))

  const overall = computed<PartProgress>(() => {
    const all = [...progress.value.values()]
    const downloaded = all.reduce((n, x) => n + x.downloaded, 0)
    const size = all.reduce((n, x) => n + x.size, 0)
    const done = phase.value === 'applied' && all.every((x) => x.done)
    return {
      downloaded,
      size,
      percent: size ? Math.floor((downloaded * 100) / size) : done ? 100 : 0,
      done
    }
  })

  /** One line per target once everything ended: fetched, skipped, failed and why. */
  const summary = computed<PartSummary[] | null>(() => {
    if (!overall.value.done) return null
    return parts.value.map((p) => {
      const out: PartSummary = { targetId: p.targetId, fetched: [], skipped: [], failed: [] }
      if (p.error) out.failed.push({ label: '(whole set)', why: p.error })
      const notes = (l: SetEntryNote[]) => l.map((n) => ({ label: n.label, why: n.why }))
      out.skipped.push(...(p.start?.skipped ?? []).map((n) => n.label))
      out.failed.push(...notes(p.start?.failed ?? []))
      ;(p.start?.started ?? []).forEach((x, i) => {
        const r = recordsOf(p)[i]
        if (r?.state === 'completed') out.fetched.push(x.label)
        else out.failed.push({ label: x.label, why: r?.error ?? `ended ${r?.state ?? 'removed'}` })
      })
      return out
    })
  })

  return {
    set,
    problems,
    chosen,
    parts,
    phase,
    progress,
    overall,
    summary,
    load,
    reset,
    plan,
    apply
  }
})
