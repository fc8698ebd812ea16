// Model sets (docs/formats.md "Model set"): export what a target has as a set,
// and plan what a set still needs on a target. The CLI and the dashboard
// start the downloads a plan lists through the ordinary startDownload.
import type { ApiHandlers } from '../../shared/api'
import {
  MODEL_SET_VERSION,
  entryUrl,
  type ModelSet,
  type ModelSetEntry
} from '../../shared/modelSet'
import type { ModelFile, SetApplyStart, SetPlanItem, StartResult } from '../../shared/types'
import type { PodPullCore } from '../core/podpullCore'
import { pinRevisions, setEndpoints, setSourceOf } from '../sources/setSource'
import { authFor, authHint } from '../sources/tokens'
import { modelsOf } from './modelsHandlers'
import { loadCatalog } from '../models/catalog'
import { checkWorkflow } from '../models/workflowCheck'
import { parseWorkflow } from '../../shared/workflow/parseWorkflow'
import { UserError } from '../errors'
import type { SourceRecord } from '../models/sourceRecord'
import { appliedSets, localFileFinder, rememberApplied } from './setLocalFiles'

type SetMethods =
  'exportSet' | 'planSet' | 'applySet' | 'appliedSets' | 'catalogSet' | 'workflowSet'

/** What PodPull recorded about where a file on the target came from. */
interface Recorded {
  url: string
  sha256: string | null
}

/** Where the target's files came from: the workspace's source record (kept
 *  for good), then the status file's completed entries (newer, kept a day). A
 *  record whose size is not the file's any more describes another file. */
async function recordedSources(
  core: PodPullCore,
  targetId: string,
  installed: ModelFile[]
): Promise<Map<string, Recorded>> {
  const byPath = new Map<string, Recorded>()
  const records = await modelsOf(core, targetId)
    .sources()
    .catch(() => new Map<string, SourceRecord>()) // no record: the files export as "local"
  for (const m of installed) {
    const r = m.path ? records.get(m.path) : undefined
    if (r && (r.size === null || r.size === m.size)) byPath.set(r.path, r)
  }
  for (const r of core.target(targetId).downloads())
    if (r.state === 'completed' && r.url)
      byPath.set(r.path, { url: r.url, sha256: r.sha256 ?? byPath.get(r.path)?.sha256 ?? null })
  return byPath
}

export function setHandlers(
  core: PodPullCore,
  /** The ordinary start (links resolved as when pasted). */
  startDownload: ApiHandlers['startDownload'],
  /** The ordinary push of a file of this computer to a pod. */
  pushFile: ApiHandlers['pushFile']
): Pick<ApiHandlers, SetMethods> {
  const planSet: ApiHandlers['planSet'] = async ({ targetId, set }) => {
    const models = modelsOf(core, targetId)
    const inv = await models.installed()
    const endpoints = setEndpoints()
    const findLocal = localFileFinder(core)
    const plan: SetPlanItem[] = []
    for (const [index, e] of set.models.entries()) {
      const have = inv.models.find((m) => m.folder === e.folder && m.name === e.name)
      const url = entryUrl(e.source, endpoints)
      const base = { index, folder: e.folder, name: e.name, url, sha256: e.sha256 ?? null }
      if (!have) {
        const from = url ? undefined : await findLocal(e)
        plan.push({
          ...base,
          action: url ? 'fetch' : 'push',
          reason: null,
          ...(from ? { from } : {})
        })
        continue
      }
      const why = await differs(e, have, (p) => models.sha256(p))
      plan.push(
        why
          ? { ...base, action: 'conflict', reason: why, path: have.path }
          : { ...base, action: 'present', reason: null, path: have.path }
      )
    }
    return plan
  }
  return {
    planSet,
    applySet: async ({ targetId, set }) => {
      const plan = await planSet({ targetId, set })
      rememberApplied(core, set, targetId)
      const sends = core.target(targetId).push ? pushFile : null
      return startPlan(targetId, plan, { startDownload, pushFile: sends })
    },
    appliedSets: async () => appliedSets(core),

    exportSet: async ({ targetId, folders, paths, name }) => {
      const models = modelsOf(core, targetId)
      const inv = await models.installed()
      const picked = paths && new Set(paths)
      const unknown = paths?.filter((p) => !inv.models.some((m) => m.path === p)) ?? []
      if (unknown.length)
        throw new UserError(
          'not-found',
          `${unknown[0]}${unknown.length > 1 ? ` and ${unknown.length - 1} more` : ''} ${unknown.length > 1 ? 'are' : 'is'} not a model file of this target (any more): refresh the list.`
        )
      const wanted = (m: ModelFile) =>
        (!folders?.length || folders.includes(m.folder)) && (!picked || picked.has(m.path ?? ''))
      const recorded = await recordedSources(core, targetId, inv.models)
      const entries: ModelSetEntry[] = []
      for (const m of inv.models.filter(wanted)) {
        const rec = m.path ? recorded.get(m.path) : undefined
        // A file with no known source is only identifiable by its content.
        const sha256 = rec?.sha256 ?? (rec || !m.path ? null : await models.sha256(m.path))
        entries.push({
          source: rec ? setSourceOf(rec.url) : { kind: 'local' },
          folder: m.folder,
          name: m.name,
          size: m.size,
          sha256
        })
      }
      return newSet(core, name ?? `${core.target(targetId).info().name} models`, entries)
    },

    catalogSet: async ({ id }) => {
      const entry = loadCatalog().sets.find((s) => s.id === id)
      if (!entry) throw new UserError('not-found', `No catalog set "${id}".`)
      return newSet(
        core,
        entry.name,
        entry.files.map((f) => ({
          source: setSourceOf(f.url),
          folder: f.folder,
          name: f.name,
          size: f.size,
          sha256: f.sha256
        })),
        entry.description
      )
    },

    workflowSet: async ({ targetId, workflow, name }) => {
      let parsed
      try {
        parsed = parseWorkflow(workflow)
      } catch (err) {
        throw new UserError('bad-workflow', (err as Error).message)
      }
      const models = modelsOf(core, targetId)
      const installed = await models.installed()
      const check = checkWorkflow(parsed, installed, loadCatalog())
      const recorded = await recordedSources(core, targetId, installed.models)
      const entries: ModelSetEntry[] = []
      const left: { folder: string | null; name: string; reason: string }[] = []
      for (const item of [...check.present, ...check.missing]) {
        const rec = item.path ? recorded.get(item.path) : undefined
        const url = item.url ?? rec?.url
        // A name with a sub-folder ("flux/ae.safetensors") keeps it in the folder.
        const slash = item.name.lastIndexOf('/')
        const folder = [item.directory, item.name.slice(0, Math.max(slash, 0))]
          .filter(Boolean)
          .join('/')
        const file = item.name.slice(slash + 1)
        if (!item.directory) {
          left.push({ folder: null, name: item.name, reason: 'no ComfyUI folder is known for it' })
          continue
        }
        if (url)
          entries.push({
            source: setSourceOf(url),
            folder,
            name: file,
            sha256: item.sha256 ?? rec?.sha256 ?? null
          })
        else if (item.path)
          entries.push({
            source: { kind: 'local' },
            folder,
            name: file,
            sha256: await models.sha256(item.path)
          })
      }
      for (const u of check.unresolved)
        left.push({ folder: u.directory, name: u.name, reason: 'nothing says where to get it' })
      return { set: await newSet(core, name ?? 'workflow models', entries), left }
    }
  }
}

const NOT_HERE =
  'a local file this computer does not have (no local target holds a file with its sha256): push it with "podpull push FILE --target …"'
const NOT_A_POD =
  'a local file: files of this computer are sent to pods, and this target is a folder on this computer'

interface Starters {
  startDownload: ApiHandlers['startDownload']
  /** null: the target takes no pushes (a local target). */
  pushFile: ApiHandlers['pushFile'] | null
}

/** What starts one fetch or push of a plan; null (with `why`) when it can't. */
function starterOf(
  targetId: string,
  item: SetPlanItem,
  s: Starters
): { run: () => Promise<StartResult> } | { why: string } {
  if (item.action === 'fetch' && item.url) {
    const url = item.url
    return {
      run: () =>
        s.startDownload({
          targetId,
          url,
          folder: item.folder,
          filename: item.name,
          ...(item.sha256 ? { sha256: item.sha256 } : {})
        })
    }
  }
  if (!item.from) return { why: NOT_HERE }
  const { pushFile } = s
  if (!pushFile) return { why: `${NOT_A_POD} (it is at ${item.from})` }
  const file = item.from
  return { run: () => pushFile({ targetId, file, folder: item.folder, filename: item.name }) }
}

/** Starts a plan's fetches and pushes all at once: the target queues beyond
 *  its own limit, and a volume's fill pod is not taken for done while more of
 *  the set is still being started. */
async function startPlan(
  targetId: string,
  plan: SetPlanItem[],
  starters: Starters
): Promise<SetApplyStart> {
  const out: SetApplyStart = { started: [], skipped: [], failed: [] }
  const runs: { note: { index: number; label: string }; run: () => Promise<StartResult> }[] = []
  for (const item of plan) {
    const note = { index: item.index, label: `${item.folder}/${item.name}` }
    if (item.action === 'present') out.skipped.push({ ...note, why: 'present' })
    else if (item.action === 'conflict')
      out.failed.push({ ...note, why: item.reason ?? 'a different file is there' })
    else {
      const s = starterOf(targetId, item, starters)
      if ('why' in s) out.failed.push({ ...note, why: s.why })
      else runs.push({ note, run: s.run })
    }
  }
  await Promise.all(
    runs.map(async ({ note, run }) => {
      try {
        const r = await run()
        if (r.outcome === 'already-present') out.skipped.push({ ...note, why: 'present' })
        else out.started.push({ ...note, id: r.id })
      } catch (err) {
        out.failed.push({ ...note, why: (err as Error).message })
      }
    })
  )
  for (const list of [out.started, out.skipped, out.failed]) list.sort((x, y) => x.index - y.index)
  return out
}

/** A set as written: its Hugging Face revisions pinned to commits. */
async function newSet(
  core: PodPullCore,
  name: string,
  entries: ModelSetEntry[],
  description?: string
): Promise<ModelSet> {
  const models = await pinRevisions(entries, {
    auth: (u) => authFor(u, (k) => core.tokens.get(k)),
    authHint: (u) => authHint(u)
  })
  return {
    format: 'podpull-model-set',
    version: MODEL_SET_VERSION,
    name,
    ...(description ? { description } : {}),
    created: new Date().toISOString(),
    models
  }
}

/** Why the file on the target is not the set's file; null when it is. */
async function differs(
  e: ModelSetEntry,
  have: ModelFile,
  sha256: (path: string) => Promise<string>
): Promise<string | null> {
  if (e.size != null && e.size !== have.size)
    return `a different file is there (${have.size} bytes, the set says ${e.size})`
  if (e.sha256 && have.path) {
    const got = await sha256(have.path)
    if (got !== e.sha256) return `a different file is there (sha256 ${got.slice(0, 12)}…)`
  }
  return null
}
