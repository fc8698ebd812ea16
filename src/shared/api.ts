// The one API contract between the UI and main. Every method's argument has a
// zod schema (validated at run time in main, whatever the transport); results
// and events are typed here. Electron IPC, the headless WebSocket and the
// renderer's bridges are all derived from this table.
import { z } from 'zod'
import type { ErrorCode } from './errorCodes'
import type { FillBill, FillResult, RunpodImportResult, RunpodPod, RunpodVolume } from './runpod'
import { modelSetSchema, type ModelSet } from './modelSet'
import type {
  ConnectionTestResult,
  DownloadPreview,
  Catalog,
  DownloadsChangedEvent,
  DuplicateGroup,
  HashLookup,
  InstalledModels,
  KeepOnePending,
  ModelFile,
  LinkPreview,
  Resolution,
  SetApplyStart,
  AppliedSet,
  SetPlanItem,
  Settings,
  Snapshot,
  StartResult,
  TargetInfo,
  TokenStatus,
  WorkflowCheck
} from './types'

const id = z.string().min(1).max(200)
const name = z.string().trim().min(1, 'name must not be empty').max(100)
const absPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'must be an absolute path')
const httpUrl = z
  .string()
  .max(8192)
  .refine((u) => {
    try {
      const p = new URL(u).protocol
      return p === 'http:' || p === 'https:'
    } catch {
      return false
    }
  }, 'must be an http(s) URL')
const sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters')
  .transform((s) => s.toLowerCase())
const folderName = z
  .string()
  .min(1)
  .max(200)
  .refine((f) => !f.split('/').some((p) => p === '..' || p === ''), 'must stay inside models/')
const fileName = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (f) => !f.includes('/') && !f.includes('\\') && f !== '.' && f !== '..',
    'must be a plain file name'
  )

export const localTargetInput = z.object({
  kind: z.literal('local'),
  name,
  comfyui: absPath,
  workspace: absPath.optional()
})
export const sshTargetInput = z.object({
  kind: z.literal('ssh'),
  name,
  host: z.string().trim().min(1).max(255),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().trim().min(1).max(64).default('root'),
  keyPath: absPath.optional(),
  /** Passphrase for keyPath, or the password when no key is used. Never stored in clear. */
  secret: z.string().max(1024).optional(),
  workspace: absPath.default('/workspace'),
  comfyui: absPath.optional(),
  /** The fingerprint the user confirmed on first contact. */
  acceptHostKey: z.string().max(200).optional(),
  /** A pod imported from the RunPod account: its address is refreshed from the API. */
  runpodPodId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  /** With runpodPodId: stop the pod when its downloads finish. */
  stopWhenDone: z.boolean().optional()
})
export const targetInput = z.discriminatedUnion('kind', [localTargetInput, sshTargetInput])
export type TargetInput = z.input<typeof targetInput>

export const settingsPatch = z
  .object({
    concurrency: z.number().int().min(1).max(16),
    connections: z.number().int().min(1).max(16),
    retentionHours: z
      .number()
      .min(1)
      .max(24 * 30),
    staleMinutes: z
      .number()
      .min(1)
      .max(24 * 60),
    autoResume: z.boolean(),
    notifications: z.boolean(),
    backgroundHashing: z.boolean()
  })
  .partial()
  .strict()

const jobRef = z.object({ targetId: id, id })

export const startDownloadArgs = z.object({
  targetId: id,
  url: httpUrl,
  folder: folderName.optional(),
  filename: fileName.optional(),
  sha256: sha256.optional(),
  connections: z.number().int().min(1).max(16).optional(),
  overwrite: z.boolean().optional()
})
export type StartDownloadArgs = z.output<typeof startDownloadArgs>

// ── models: resolvers, installed models, workflows, catalog ──
const modelsArgs = {
  /** A link or a Civitai AIR (urn:air:…): not only http(s). */
  resolveSource: z.object({ input: z.string().trim().min(1).max(8192) }),
  /** A Hugging Face / Civitai link (or AIR) described for the user before downloading. */
  previewLink: z.object({ input: z.string().trim().min(1).max(8192) }),
  listInstalled: z.object({ targetId: id }),
  /** `path` must be one the inventory lists (a model file or a .part). */
  deleteModel: z.object({ targetId: id, path: absPath }),
  hashModel: z.object({ targetId: id, path: absPath }),
  /** The same content under several names (from the content index). */
  listDuplicates: z.object({ targetId: id }),
  /** Every other name of that content becomes a hard link to `keep` (default: the
   *  first listed); the old contents stay aside until settleKeepOne. */
  keepOne: z.object({ targetId: id, sha256, keep: absPath.optional() }),
  /** Confirm (the kept-aside copies are deleted) or undo a keep-one. */
  settleKeepOne: z.object({
    targetId: id,
    op: z.string().regex(/^[0-9a-f]{12}$/, 'must be a keep-one change id'),
    undo: z.boolean()
  }),
  pendingKeepOnes: z.object({ targetId: id }),
  /** Where a content is, on every target (or one), and which Civitai model it is. */
  findByHash: z.object({
    hash: z
      .string()
      .trim()
      .regex(
        /^([0-9a-fA-F]{64}|[0-9a-fA-F]{10})$/,
        "must be a sha256 (64 hex digits) or Civitai's AutoV2 (10)"
      ),
    targetId: id.optional(),
    civitai: z.boolean().default(true)
  }),
  /** The workflow's JSON text (a dropped image's is extracted first: shared/workflow). */
  checkWorkflow: z.object({
    targetId: id,
    workflow: z
      .string()
      .min(1)
      .max(32 << 20)
  }),
  getCatalog: z.object({}).strict()
}

/** Argument schemas, one per method. The keys are the channel names. */
export const apiArgs = {
  getSnapshot: z.object({}).strict(),
  previewDownload: z.object({ url: httpUrl, targetId: id.optional() }),
  startDownload: startDownloadArgs,
  pauseDownload: jobRef,
  /** `url`: continue with a fresh link to the same file (signed links expire). */
  resumeDownload: jobRef.extend({ url: httpUrl.optional() }),
  cancelDownload: jobRef,
  retryDownload: jobRef,
  removeDownload: jobRef,
  clearCompleted: z.object({ targetId: id.optional() }),
  openFolder: jobRef,
  listModels: z.object({ targetId: id }),
  addTarget: targetInput,
  updateTarget: z.object({
    id,
    patch: z
      .object({
        name,
        comfyui: absPath,
        workspace: absPath,
        host: z.string().trim().min(1).max(255),
        port: z.number().int().min(1).max(65535),
        user: z.string().trim().min(1).max(64),
        keyPath: absPath,
        secret: z.string().max(1024),
        acceptHostKey: z.string().max(200),
        /** RunPod-linked pods only: stop the pod when its downloads finish. */
        stopWhenDone: z.boolean()
      })
      .partial()
      .strict()
  }),
  removeTarget: z.object({ id }),
  /** A cap for all the target's downloads ("5MB", "unlimited") and a daily
   *  schedule ("01:00-07:00=unlimited, …"; empty: none), as the user typed
   *  them: main parses, so every front end gets the same one-line refusal. */
  setBandwidth: z.object({
    id,
    maxSpeed: z.string().trim().min(1).max(40),
    schedule: z.string().max(1000).default(''),
    /** IANA zone of the schedule; default: this machine's. */
    timeZone: z.string().trim().min(1).max(100).optional()
  }),
  testConnection: z.union([z.object({ id }), targetInput]),
  findComfyInstalls: z.object({}).strict(),
  pickFolder: z.object({ title: z.string().max(200).optional() }),
  getSettings: z.object({}).strict(),
  setSettings: settingsPatch,
  getTokenStatus: z.object({}).strict(),
  setToken: z.object({
    kind: z.enum(['hf', 'civitai', 'runpod']),
    value: z.string().trim().min(1).max(4096).nullable()
  }),
  // Diagnostics: the archive always goes under PODPULL_HOME/diagnostics (the
  // dashboard may be a browser on another machine: it never names a path).
  saveDiagnostics: z.object({}).strict(),
  // About (app menu and dashboard): versions and where settings and logs live.
  getAbout: z.object({}).strict(),
  // ── host-key re-trust ──
  /** Trust the key a pod presents now; refused unless it equals `fingerprint`. */
  trustHostKey: z.object({
    id,
    fingerprint: z
      .string()
      .trim()
      .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must look like SHA256: and 43 base64 characters')
  }),
  ...modelsArgs,
  // RunPod account: `pod` is a RunPod-linked target's name, a pod id or a pod name.
  runpodPods: z.object({}).strict(),
  runpodStart: z.object({ pod: z.string().trim().min(1).max(200) }),
  runpodStop: z.object({ pod: z.string().trim().min(1).max(200) }),
  // ── where a download into a folder really goes (extra_model_paths.yaml) ──
  destinationFolder: z.object({ targetId: id, folder: folderName }),
  // ── import a RunPod pod from the dashboard ──
  /** A pod by id or name; the SSH options as in addTarget. Without acceptHostKey
   *  a first-contact key comes back to be confirmed and nothing is saved. */
  runpodImport: z.object({
    pod: z.string().trim().min(1).max(200),
    name: name.optional(),
    keyPath: absPath.optional(),
    secret: z.string().max(1024).optional(),
    workspace: absPath.default('/workspace'),
    comfyui: absPath.optional(),
    acceptHostKey: z.string().max(200).optional(),
    stopWhenDone: z.boolean().optional()
  }),
  // ── model sets ──
  /** The target's installed models as a set (only `folders`, or only the files at
   *  `paths`, when given): source links where PodPull knows them, else local files by sha256. */
  exportSet: z.object({
    targetId: id,
    folders: z.array(folderName).max(100).optional(),
    paths: z.array(absPath).min(1).max(10_000).optional(),
    name: name.optional()
  }),
  /** What applying `set` to the target would do, entry by entry (nothing is started). */
  planSet: z.object({ targetId: id, set: modelSetSchema }),
  /** Starts what the set still needs on the target (plans it first); the
   *  started downloads are then followed as any other (downloadsChanged). */
  applySet: z.object({ targetId: id, set: modelSetSchema }),
  /** The sets applied before (newest first), by this or any other PodPull process. */
  appliedSets: z.object({}).strict(),
  /** A catalog entry as a set. */
  catalogSet: z.object({ id: z.string().min(1).max(200) }),
  /** The models a workflow uses (present and missing) as a set; unresolved ones are listed apart. */
  workflowSet: z.object({
    targetId: id,
    workflow: z
      .string()
      .min(1)
      .max(32 << 20),
    name: name.optional()
  }),
  // ── a file of this computer pushed to a pod (resumable, checked by sha256) ──
  /** `folder`: default the local file's own models folder (…/models/loras/x → loras);
   *  `filename`: default the local name. Resolves once the pod holds the upload. */
  pushFile: z.object({
    targetId: id,
    file: absPath,
    folder: folderName.optional(),
    filename: fileName.optional(),
    overwrite: z.boolean().optional()
  }),
  // ── network volumes: listed, added as targets, filled by a CPU pod ──
  runpodVolumes: z.object({}).strict(),
  /** `volume`: a volume id or its (unique) name. */
  runpodAddVolume: z.object({
    volume: z.string().trim().min(1).max(200),
    name: name.optional(),
    keyPath: absPath.optional(),
    workspace: absPath.default('/workspace'),
    comfyui: absPath.optional(),
    maxPrice: z.number().positive().max(100).optional(),
    maxHours: z.number().positive().max(168).optional(),
    /** A Docker image reference with sshd and python3 for the fill pod. */
    image: z
      .string()
      .trim()
      .regex(
        /^[a-z0-9][a-z0-9._/:@-]{0,254}$/i,
        'an image reference such as runpod/base:1.0.2-ubuntu2204'
      )
      .optional()
  }),
  /** Without `accept`: the plan and its cost, nothing created (or the pod already
   *  running with the volume). With it: the fill pod is created and SSH answers. */
  /** `bytes`: what the fill is expected to fetch, for the plan's "≈ $X in all". */
  runpodFill: z.object({
    targetId: id,
    accept: z.boolean().default(false),
    bytes: z.number().nonnegative().max(1e15).optional()
  }),
  /** Removes the volume target's fill pod if its queue is done; its bill. */
  runpodFillDone: z.object({ targetId: id, force: z.boolean().default(false) }),
  /** Every recorded fill pod against the API: gone ones forgotten, finished or
   *  expired ones removed, the rest resumed by their target. */
  runpodReconcile: z.object({}).strict()
} as const

export type ApiMethod = keyof typeof apiArgs
export const API_METHODS = Object.keys(apiArgs) as ApiMethod[]

/** What each method resolves to. */
export interface ApiResults {
  getSnapshot: Snapshot
  previewDownload: DownloadPreview
  startDownload: StartResult
  pauseDownload: void
  resumeDownload: void
  cancelDownload: void
  retryDownload: void
  removeDownload: void
  clearCompleted: { removed: number }
  openFolder: void
  listModels: ModelFile[]
  addTarget: TargetInfo
  updateTarget: TargetInfo
  removeTarget: void
  setBandwidth: TargetInfo
  testConnection: ConnectionTestResult
  findComfyInstalls: string[]
  pickFolder: string | null
  getSettings: Settings
  setSettings: Settings
  getTokenStatus: TokenStatus
  setToken: TokenStatus
  saveDiagnostics: { path: string }
  getAbout: AboutInfo
  trustHostKey: TargetInfo
  // models: resolvers, installed models, workflows, catalog
  resolveSource: Resolution
  previewLink: LinkPreview
  listInstalled: InstalledModels
  deleteModel: void
  hashModel: { sha256: string }
  listDuplicates: DuplicateGroup[]
  keepOne: KeepOnePending
  /** `restored`: names whose old content went back; `reclaimed`: bytes given back. */
  settleKeepOne: { restored: string[]; reclaimed: number }
  pendingKeepOnes: KeepOnePending[]
  findByHash: HashLookup
  checkWorkflow: WorkflowCheck
  getCatalog: Catalog
  runpodPods: RunpodPod[]
  runpodStart: RunpodPod
  runpodStop: RunpodPod
  /** `extra`: the directory comes from the target's extra_model_paths.yaml. */
  destinationFolder: { dir: string; extra: boolean }
  runpodImport: RunpodImportResult
  exportSet: ModelSet
  pushFile: StartResult
  planSet: SetPlanItem[]
  applySet: SetApplyStart
  appliedSets: AppliedSet[]
  catalogSet: ModelSet
  /** `left`: models the workflow names that have no source and no file on the target. */
  workflowSet: { set: ModelSet; left: { folder: string | null; name: string; reason: string }[] }
  runpodVolumes: RunpodVolume[]
  runpodAddVolume: TargetInfo
  runpodFill: FillResult
  runpodFillDone: FillBill | null
  runpodReconcile: { removed: FillBill[]; kept: string[] }
}

/** Versions of every part (null where a part is absent, e.g. Electron under `podpull serve`). */
export interface AboutInfo {
  app: string
  electron: string | null
  node: string
  chromium: string | null
  helper: string | null
  settingsFile: string
  logsDir: string
}

/** Argument type of a method as a caller writes it (defaults may be omitted). */
export type ApiArgs<M extends ApiMethod> = z.input<(typeof apiArgs)[M]>
/** The fields of a target an edit may change (updateTarget's `patch`). */
export type TargetPatch = ApiArgs<'updateTarget'>['patch']
/** Argument type of a method as a handler receives it (after validation). */
export type ApiParsedArgs<M extends ApiMethod> = z.output<(typeof apiArgs)[M]>

/** The renderer-facing API: one async function per method. */
export type PodPullApi = {
  [M in ApiMethod]: (args: ApiArgs<M>) => Promise<ApiResults[M]>
}

/** The handler table main implements once. */
export type ApiHandlers = {
  [M in ApiMethod]: (args: ApiParsedArgs<M>) => Promise<ApiResults[M]>
}

/** Events main pushes to every window / WebSocket client. */
export interface ApiEvents {
  downloadsChanged: DownloadsChangedEvent
  targetsChanged: TargetInfo[]
  settingsChanged: Settings
  tokensChanged: TokenStatus
}
export type ApiEventName = keyof ApiEvents
export const API_EVENTS: ApiEventName[] = [
  'downloadsChanged',
  'targetsChanged',
  'settingsChanged',
  'tokensChanged'
]

/** `onDownloadsChanged(cb)` etc.; each returns an unsubscribe function. */
export type PodPullSubscriptions = {
  [E in ApiEventName as `on${Capitalize<E>}`]: (cb: (payload: ApiEvents[E]) => void) => () => void
}

export type PodPullBridge = PodPullApi & PodPullSubscriptions

export const ipcChannel = (m: ApiMethod | ApiEventName): string => `podpull:${m}`
export const subscriptionName = (e: ApiEventName): keyof PodPullSubscriptions =>
  `on${e[0]!.toUpperCase()}${e.slice(1)}` as keyof PodPullSubscriptions

/** Error shape carried across IPC / WebSocket. `code` lets the UI react without parsing text. */
export interface ApiErrorShape {
  code: ErrorCode
  message: string
}

/** Turn a zod failure into one clear line naming the field. */
export function describeValidationError(method: string, err: z.ZodError): string {
  const first = err.issues[0]
  if (!first) return `${method}: invalid arguments`
  const where = first.path.length ? first.path.join('.') : 'arguments'
  return `${method}: ${where} ${first.message}`
}
