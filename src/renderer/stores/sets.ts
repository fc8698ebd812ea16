// Applying a model set to several targets from the dashboard: the set read
// from a file or pasted text (or one applied before, by any PodPull process),
// what each chosen target lacks and has (main's planSet), then main's applySet
// on every target at once. Each target's state of the set is derived from its
// records in the downloads store (seeded from the snapshot, patched by
// downloadsChanged events), so a run started elsewhere shows as well.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { ModelSetError, parseModelSet, type ModelSet } from '../../shared/modelSet'
import type { FillPlan } from '../../shared/runpod'
import {
  type AppliedSet,
  type DownloadRecord,
  type SetApplyStart,
  type SetEntryNote,
  type SetPlanItem,
  type TargetInfo
} from '../../shared/types'
import { useSessionStore } from './session'
import { useDownloadsStore } from './downloads'
import { useTargetsStore } from './targets'
import { entryViews, progressOf, type EntryView, type PartProgress } from './setFleet'

export type { EntryView, PartProgress }

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
  /** Sets applied before, by this or another PodPull process (newest first). */
  const applied = ref<AppliedSet[]>([])
  const appliedError = ref<string | null>(null)

  async function loadApplied(): Promise<void> {
    try {
      applied.value = await session.requireApi().appliedSets({})
      appliedError.value = null
    } catch (err) {
      appliedError.value = (err as Error).message
    }
  }

  /** Shows a set applied before: its state on the targets it was applied to. */
  async function openApplied(a: AppliedSet): Promise<void> {
    reset()
    set.value = a.set
    chosen.value = a.targetIds.filter((id) => targets.byId.has(id))
    await plan()
  }

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

  /** Asks the dashboard to show the Sets view (App watches it). */
  const revealed = ref(0)

  const reveal = (): void => void revealed.value++

  /** Opens a set built in the dashboard (e.g. from the model library), and shows it unless told not to. */
  function open(s: ModelSet, show = true): void {
    reset()
    set.value = s
    if (show) reveal()
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

  const recordsOn = (targetId: string): DownloadRecord[] =>
    [...downloads.records.values()].filter((r) => r.targetId === targetId)

  /** Every entry of the set on each planned target, as the target's records say. */
  const entries = computed(() => {
    const s = set.value
    const out = new Map<string, EntryView[]>()
    if (s)
      for (const p of parts.value)
        out.set(p.targetId, entryViews(s, p.plan, recordsOn(p.targetId), p.start))
    return out
  })

  const progress = computed(
    () => new Map([...entries.value].map(([id, views]) => [id, progressOf(views)]))
  )

  const overall = computed<PartProgress>(() => {
    const all = [...entries.value.values()].flat()
    const p = progressOf(all)
    return { ...p, done: phase.value === 'applied' && p.done }
  })

  /** One line per target once everything this window started has ended:
   *  fetched, skipped, failed and why. */
  const summary = computed<PartSummary[] | null>(() => {
    if (!overall.value.done) return null
    return parts.value.map((p) => {
      const out: PartSummary = { targetId: p.targetId, fetched: [], skipped: [], failed: [] }
      if (p.error) out.failed.push({ label: '(whole set)', why: p.error })
      const notes = (l: SetEntryNote[]) => l.map((n) => ({ label: n.label, why: n.why }))
      out.skipped.push(...(p.start?.skipped ?? []).map((n) => n.label))
      out.failed.push(...notes(p.start?.failed ?? []))
      const views = entries.value.get(p.targetId) ?? []
      for (const x of p.start?.started ?? []) {
        const v = views[x.index]
        if (v?.state === 'completed' || v?.state === 'present') out.fetched.push(x.label)
        else out.failed.push({ label: x.label, why: v?.why ?? `ended ${v?.state ?? 'removed'}` })
      }
      return out
    })
  })

  return {
    set,
    problems,
    chosen,
    parts,
    phase,
    entries,
    progress,
    overall,
    summary,
    applied,
    appliedError,
    load,
    open,
    reveal,
    revealed,
    loadApplied,
    openApplied,
    reset,
    plan,
    apply
  }
})
