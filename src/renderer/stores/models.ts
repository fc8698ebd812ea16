// The models view's state and actions: a dropped workflow checked
// against a target (present / missing / unresolved) with "Download all
// missing", the target's installed models, and the starter catalog. Main does
// the work; this store keeps what the view shows and re-checks when the
// downloads it started have finished.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import type { Catalog, InstalledModels, WorkflowCheck } from '../../shared/types'
import { downloadArgsFor } from '../../shared/workflow/downloadArgs'
import { workflowTextOf } from '../../shared/workflow/imageMetadata'
import {
  compactWorkflow,
  parseWorkflow,
  type ParsedWorkflow
} from '../../shared/workflow/parseWorkflow'
import { installedKeys } from '../catalogView'
import { sourcesByPath } from '../modelLibrary'
import { useDownloadsStore } from './downloads'
import { useSessionStore } from './session'
import { useTargetsStore } from './targets'

const MAX_FILE = 64 << 20

export const useModelsStore = defineStore('models', () => {
  const session = useSessionStore()
  const downloads = useDownloadsStore()
  const targets = useTargetsStore()

  const targetId = ref('')
  const workflowName = ref('')
  const workflowText = ref('')
  const check = shallowRef<WorkflowCheck | null>(null)
  const parsed = shallowRef<ParsedWorkflow | null>(null)
  const installed = shallowRef<InstalledModels | null>(null)
  const catalog = shallowRef<Catalog | null>(null)
  const error = ref<string | null>(null)
  const busy = ref(false)
  /** Download ids started from the workflow view, still running. */
  const pending = ref<string[]>([])

  async function run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    busy.value = true
    error.value = null
    try {
      return await fn()
    } catch (err) {
      error.value = (err as Error).message
      return undefined
    } finally {
      busy.value = false
    }
  }

  async function recheck(): Promise<void> {
    if (!workflowText.value || !targetId.value) return
    const c = await run(() =>
      session.requireApi().checkWorkflow({ targetId: targetId.value, workflow: workflowText.value })
    )
    // Format and refused names are the dropped file's, not the compact copy's.
    if (c)
      check.value = parsed.value
        ? { ...c, format: parsed.value.format, refused: parsed.value.refused }
        : c
  }

  /** A dropped or opened file: workflow JSON, or a PNG/WebP ComfyUI saved. */
  async function openWorkflow(file: File): Promise<void> {
    check.value = null
    parsed.value = null
    workflowText.value = ''
    workflowName.value = file.name
    if (file.size > MAX_FILE) {
      error.value = `${file.name} is larger than 64 MiB; that is not a ComfyUI workflow.`
      return
    }
    try {
      // Parsed here: only the models cross to main (a workflow can be megabytes).
      parsed.value = parseWorkflow(workflowTextOf(new Uint8Array(await file.arrayBuffer())))
      workflowText.value = compactWorkflow(parsed.value)
    } catch (err) {
      error.value = (err as Error).message
      return
    }
    await recheck()
  }

  async function downloadAllMissing(): Promise<void> {
    const items = check.value?.missing ?? []
    await run(async () => {
      const failures: string[] = []
      for (const item of items) {
        try {
          const res = await session
            .requireApi()
            .startDownload({ targetId: targetId.value, ...downloadArgsFor(item) })
          if (res.outcome !== 'already-present') pending.value = [...pending.value, res.id]
        } catch (err) {
          failures.push(`${item.name}: ${(err as Error).message}`)
        }
      }
      if (failures.length) throw new Error(failures.join(' · '))
    })
    if (!pending.value.length) await recheck()
  }

  // When every download started here has finished, the list is checked again.
  watch(
    () => pending.value.map((id) => downloads.records.get(id)?.state),
    (states) => {
      if (
        !pending.value.length ||
        states.some((s) => s === undefined || !['completed', 'error', 'cancelled'].includes(s))
      )
        return
      pending.value = []
      void recheck()
      if (installed.value) void loadInstalled()
    }
  )

  async function loadInstalled(): Promise<void> {
    if (!targetId.value) return
    const inv = await run(() => session.requireApi().listInstalled({ targetId: targetId.value }))
    if (inv) installed.value = inv
  }

  async function deleteModel(path: string): Promise<void> {
    await deleteModels([path])
  }

  /** Deletes each path in turn; one that fails is named and the rest still go. */
  async function deleteModels(paths: readonly string[]): Promise<void> {
    await run(async () => {
      const failures: string[] = []
      for (const path of paths)
        try {
          await session.requireApi().deleteModel({ targetId: targetId.value, path })
        } catch (err) {
          failures.push(`${path}: ${(err as Error).message}`)
        }
      if (failures.length) throw new Error(failures.join(' · '))
    })
    await loadInstalled()
  }

  /** Where the target's files came from, as far as its finished downloads say. */
  const sources = computed(() => sourcesByPath(downloads.records.values(), targetId.value))

  /** The download a leftover .part belongs to, when this target still lists it. */
  function downloadOfPartial(partPath: string): string | undefined {
    for (const r of downloads.records.values())
      if (r.targetId === targetId.value && `${r.path}.part` === partPath) return r.id
    return undefined
  }

  async function resumePartial(partPath: string): Promise<void> {
    const id = downloadOfPartial(partPath)
    if (!id) return
    await run(() => session.requireApi().resumeDownload({ targetId: targetId.value, id }))
  }

  async function hashModel(path: string): Promise<string | undefined> {
    return (await run(() => session.requireApi().hashModel({ targetId: targetId.value, path })))
      ?.sha256
  }

  async function loadCatalog(): Promise<void> {
    catalog.value ??= (await run(() => session.requireApi().getCatalog({}))) ?? null
  }

  async function downloadSet(setId: string): Promise<void> {
    const set = catalog.value?.sets.find((s) => s.id === setId)
    if (!set) return
    await run(async () => {
      for (const f of set.files)
        await session.requireApi().startDownload({
          targetId: targetId.value,
          url: f.url,
          folder: f.folder,
          filename: f.name,
          ...(f.sha256 ? { sha256: f.sha256 } : {})
        })
    })
  }

  const installedNames = computed(() => installedKeys(installed.value?.models ?? []))

  /** Each target's installed files ("folder/name"), for the catalog's marks;
   *  a target that cannot be listed now (offline) is left out. */
  const installedByTarget = shallowRef<Record<string, Set<string>>>({})
  async function loadAllInstalled(): Promise<void> {
    const out: Record<string, Set<string>> = {}
    await Promise.all(
      targets.list.map(async (t) => {
        try {
          out[t.id] = installedKeys(
            (await session.requireApi().listInstalled({ targetId: t.id })).models
          )
        } catch {
          // An offline pod has no marks rather than wrong ones.
        }
      })
    )
    installedByTarget.value = out
  }

  watch(targetId, () => {
    installed.value = null
    void recheck()
  })

  return {
    targetId,
    workflowName,
    check,
    installed,
    installedNames,
    installedByTarget,
    loadAllInstalled,
    catalog,
    error,
    busy,
    pending,
    openWorkflow,
    recheck,
    downloadAllMissing,
    loadInstalled,
    deleteModel,
    deleteModels,
    sources,
    hashModel,
    downloadOfPartial,
    resumePartial,
    loadCatalog,
    downloadSet
  }
})
