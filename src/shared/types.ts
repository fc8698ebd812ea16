// Plain data types shared by every process. No node or electron imports here.
import type { FillPodState } from './runpod'
import type { BandwidthLimits } from './bandwidth'
import type { ModelSet } from './modelSet'

/** The seed's four states plus PodPull's additions. Readers that know only the
 *  seed's four still make sense of a status file (see docs/formats.md). */
export const JOB_STATES = [
  'queued',
  'starting',
  'downloading',
  'paused',
  'verifying',
  'completed',
  'error',
  'cancelled'
] as const
export type JobState = (typeof JOB_STATES)[number]

/** States in which a job is still moving (or about to). */
export const ACTIVE_STATES: readonly JobState[] = ['queued', 'starting', 'downloading', 'verifying']

export type SourceKind = 'huggingface' | 'civitai' | 'direct'
export type TargetKind = 'local' | 'ssh'
/** A model hub's token (sent with downloads). */
export type TokenKind = 'hf' | 'civitai'
/** Every key the token store keeps: the hubs' tokens and the RunPod API key. */
export type KeyKind = TokenKind | 'runpod'

/** One download as the dashboard sees it (camelCase view of a status-file entry). */
export interface DownloadRecord {
  id: string
  targetId: string
  /** Absolute final path on the target (the status-file key). */
  path: string
  /** URL without secrets. */
  url: string
  folder: string
  filename: string
  state: JobState
  /** 0..100 */
  progress: number
  /** Bytes; null while unknown. */
  fileSize: number | null
  downloaded: number
  /** Bytes per second, smoothed. */
  speed: number
  /** Seconds; null while unknown. */
  eta: number | null
  error: string | null
  /** Machine-readable reason with `error` (docs/formats.md codes: auth, html, no-space, …),
   *  so the UI can offer the fix (e.g. "Add a token") without parsing the sentence. */
  errorCode?: string | null
  /** Epoch seconds. */
  startTime: number
  /** Epoch seconds of the last update. */
  timestamp: number
  sha256: string | null
  source: SourceKind
  connections: number
  attempts: number
  /** Monotonic revision per record: a store ignores an event older than what it has. */
  rev: number
  /** What a running download waits for, in words ("rate-limited by huggingface.co, going on in 2 s"). */
  notice?: string | null
  /** "upload": a local file pushed to this target (absent: a download). Its `url`
   *  is the file:// URL of the file on the computer that sends it. */
  kind?: 'upload'
  /** An upload's sending computer (host name); only it can continue the upload. */
  sourceHost?: string | null
}

/** "hashing 12 of 40 files": files looked at so far, of all, and the one being read. */
export interface HashingProgress {
  done: number
  total: number
  current: string | null
}

/** What the header and the target card show: "5.0 MB/s until 01:00". */
export interface BandwidthInForce {
  text: string
  /** Bytes/s in force now; null = unlimited (a scheduled window). */
  bytesPerSec: number | null
}

export type ConnectionState = 'online' | 'connecting' | 'offline' | 'error'

export interface LocalTargetConfig {
  kind: 'local'
  /** The cap for all the target's downloads together, and its schedule. */
  bandwidth?: BandwidthLimits
  /** The ComfyUI folder (contains models/). */
  comfyui: string
  /** State directory; defaults to the parent of comfyui. */
  workspace: string
}

export interface SshTargetConfig {
  kind: 'ssh'
  /** The cap for all the target's downloads together (the helper enforces it), and its schedule. */
  bandwidth?: BandwidthLimits
  /** When `bandwidth` was set (epoch ms): here, or on the pod by another
   *  process and taken up. The newer of it and the pod's limits file wins at
   *  each connection, so limits set while the pod was away reach it later. */
  bandwidthSetAt?: number
  host: string
  port: number
  user: string
  /** Private key file; omitted → ssh-agent, then password. */
  keyPath?: string
  workspace: string
  /** ComfyUI folder on the pod; omitted → probed. */
  comfyui?: string
  /** Imported from the RunPod account: the address is refreshed from its API. */
  runpodPodId?: string
  /** RunPod-linked only: stop the pod once its running downloads have all ended. */
  stopWhenDone?: boolean
  /** A RunPod network volume as a target: its host is whichever pod has the
   *  volume mounted, or a CPU fill pod PodPull creates (host/port are unused). */
  runpodVolume?: RunpodVolumeRef
}

export interface RunpodVolumeRef {
  id: string
  name: string
  dataCenterId: string
  /** Highest $/h a fill pod may cost. */
  maxPrice?: number
  /** A fill pod is removed after this many hours whatever happens (default 6). */
  maxHours?: number
  /** The fill pod's image (default: RunPod's CPU base image; PODPULL_FILL_IMAGE). */
  image?: string
}

export type TargetConfig = LocalTargetConfig | SshTargetConfig

export interface TargetInfo {
  id: string
  name: string
  config: TargetConfig
  connection: ConnectionState
  /** Epoch ms the target was last reachable; null if never. */
  lastSeen: number | null
  freeBytes: number | null
  /** The ComfyUI folder actually in use (probed for pods). */
  comfyui: string | null
  /** Why the target is offline / in error. */
  message: string | null
  /** A pod presenting another host key than the pinned one: both, for the user to compare. */
  hostKeyChange?: { pinned: string; presented: string } | null
  /** What PodPull last did to this target by itself, e.g. "Stopped the pod …" (stop-when-done). */
  notice?: string | null
  /** Background hashing of the model files into the content index, while it runs. */
  hashing?: HashingProgress | null
  /** The bandwidth cap in force now, when the target has one. */
  bandwidth?: BandwidthInForce | null
  /** Volume targets: the pod the volume is worked through, if one is running. */
  fillPod?: FillPodState | null
}

export interface Settings {
  /** Jobs running at once per target. */
  concurrency: number
  /** Connections per download (1 disables segmenting). */
  connections: number
  retentionHours: number
  staleMinutes: number
  autoResume: boolean
  notifications: boolean
  /** Hash model files into the content index in the background (off for one-shot CLI commands). */
  backgroundHashing: boolean
}

export const DEFAULT_SETTINGS: Settings = {
  // Four at once: a typical set (a checkpoint, a VAE, text encoders, a LoRA)
  // fetches in one wave, as aria2c's default -j does.
  concurrency: 4,
  connections: 8,
  retentionHours: 24,
  staleMinutes: 10,
  autoResume: true,
  backgroundHashing: true,
  notifications: true
}

export interface TokenStatus {
  hf: boolean
  civitai: boolean
  /** The RunPod API key (RUNPOD_API_KEY); optional for snapshots from older builds. */
  runpod?: boolean
  /** Whether tokens can be changed from the UI (false in headless mode: use the environment). */
  editable: boolean
  /** True when an OS keyring stores tokens and SSH passphrases encrypted, so
   *  they survive a restart; absent/false: nothing secret is kept on disk. */
  keyring?: boolean
}

export interface Snapshot {
  targets: TargetInfo[]
  downloads: DownloadRecord[]
  settings: Settings
  tokens: TokenStatus
  /** 'electron' or 'headless'; the UI hides native-only actions in headless mode. */
  host: 'electron' | 'headless'
}

export interface DownloadsChangedEvent {
  targetId: string
  upserts: DownloadRecord[]
  /** Removed record ids with the revision of their removal. */
  removed: { id: string; rev: number }[]
}

export type StartOutcome = 'started' | 'already-present' | 'already-active' | 'linked'

export interface StartResult {
  id: string
  outcome: StartOutcome
  path: string
  /** The models folder chosen when none was given (the suggestion used). */
  suggestedFolder?: string
  /** 'linked': the file with this content the target had ("loras/old.safetensors"). */
  linkedFrom?: string
  /** 'linked': a hard link (one file, two names) or, across file systems, a copy. */
  linkedBy?: 'hardlink' | 'copy'
}

export interface DownloadPreview {
  url: string
  filename: string
  /** Bytes; null when the server does not say. */
  size: number | null
  source: SourceKind
  suggestedFolder: string
  sha256: string | null
  /** Set when a token is needed and missing, etc. */
  warning: string | null
}

export interface ConnectionTestResult {
  ok: boolean
  message: string
  /** SHA256 host-key fingerprint (ssh only), e.g. "SHA256:abc…". */
  fingerprint?: string
  /** True when the host key is not yet trusted and must be confirmed. */
  needsHostKeyConfirmation?: boolean
  comfyui?: string | null
  freeBytes?: number | null
}

export interface ModelFile {
  folder: string
  name: string
  size: number
  /** Epoch seconds. */
  mtime: number
  /** Absolute path on the target (delete / sha256 name it). */
  path?: string
  /** Found through extra_model_paths.yaml, outside models/. */
  extra?: boolean
  /** From the content index, when this file has been hashed. */
  sha256?: string
  /** Other files of the target with the same content ("folder/name"). */
  sameAs?: string[]
}

// ── models: resolvers, workflows, catalog ───────────────────────────────

/** One downloadable file a link resolved to. */
export interface ResolvedFile {
  /** The URL to download (no secrets). */
  url: string
  filename: string
  /** Bytes; null when the source does not say. */
  size: number | null
  sha256: string | null
  suggestedFolder: string
  /** What tells it apart from its siblings: a repo path, "Model · pruned · fp16 · SafeTensor". */
  label: string
  primary: boolean
}

/** What a Hugging Face / Civitai / plain link means. */
export interface Resolution {
  input: string
  source: SourceKind
  /** Repo id, or Civitai "model · version". */
  title: string
  /** The human page (licence, description). */
  page: string | null
  files: ResolvedFile[]
  /** The file meant by default; -1 when the user must pick (a repo link). */
  selected: number
  /** Civitai's model type (LORA, Checkpoint, …). */
  modelType: string | null
  baseModel: string | null
  warning: string | null
}

/** A picture of a model (Civitai's previews). `src` is a path on the page's
 *  own origin: main fetches the remote image, so the page never talks to the web. */
export interface PreviewImage {
  src: string
  width: number | null
  height: number | null
}

/** What a pasted Hugging Face or Civitai link is, before anything is downloaded. */
export interface LinkPreview {
  /** The files (sizes, sha256, suggested folders) and which one is meant. */
  resolution: Resolution
  /** The model's name: Civitai's model name, or the Hugging Face repo id. */
  name: string
  /** Civitai's version name, or the Hugging Face revision. */
  version: string | null
  /** What kind of model: "LoRA", "Checkpoint", "VAE", … */
  type: string | null
  baseModel: string | null
  license: string | null
  /** Gated on Hugging Face (a licence to accept) or in early access on Civitai. */
  gated: boolean
  /** public: anyone may download; granted: restricted, and the token set here has
   *  access; needs-token: set a token (or accept the licence) first, see accessNote. */
  access: 'public' | 'granted' | 'needs-token'
  accessNote: string | null
  triggerWords: string[]
  images: PreviewImage[]
  /** Preview images left out because the hub marks them as mature. */
  hiddenImages: number
}

/** A download that never finished: `<name>.part` (resume it from the list, or discard it). */
export interface PartialModel {
  folder: string
  /** The final file name (without .part). */
  name: string
  /** The .part file. */
  path: string
  /** Bytes on disk so far. */
  size: number
  mtime: number
}

/** What a target has: model files by folder, leftover partial files, and the
 *  folders extra_model_paths.yaml adds. */
export interface InstalledModels {
  models: ModelFile[]
  partials: PartialModel[]
  extraRoots: { folder: string; dir: string }[]
  /** A problem reading extra_model_paths.yaml (the rest is still listed). */
  warning: string | null
}

/** One content stored under several names on a target. */
export interface DuplicateGroup {
  sha256: string
  /** Bytes of one copy. */
  size: number
  files: { folder: string; name: string; path: string }[]
  /** Bytes given back when all but one become links to it. */
  reclaimable: number
}

/** "Keep one" done, not yet confirmed: the other copies wait beside their names
 *  until confirmSettle removes them (bytes given back) or undo puts them back. */
export interface KeepOnePending {
  /** Names this pending change (confirm or undo it). */
  op: string
  sha256: string
  kept: string
  /** Paths that are now hard links to `kept`. */
  linked: string[]
  /** Bytes given back once confirmed. */
  reclaimable: number
}

/** Which Civitai model and version a hash is (Civitai's by-hash lookup). */
export interface CivitaiMatch {
  modelId: number | null
  modelName: string | null
  modelType: string | null
  versionId: number
  versionName: string | null
  baseModel: string | null
  fileName: string | null
  page: string
}

/** Where a content hash is: on each target, and on Civitai. */
export interface HashLookup {
  /** As asked, lower-cased: a sha256 or an AutoV2 (first 10 hex digits). */
  hash: string
  places: { targetId: string; targetName: string; files: ModelFile[]; error: string | null }[]
  civitai: CivitaiMatch | null
  /** Why Civitai could not be asked (offline, refused); null when it answered. */
  civitaiError: string | null
}

/** One model a workflow needs, compared with a target's inventory. */
export interface WorkflowItem {
  /** As the workflow names it, sub-folder included ("flux/ae.safetensors"). */
  name: string
  /** ComfyUI folder; null when only an unknown node names the file. */
  directory: string | null
  url?: string
  sha256?: string
  /** Where it is on the target (present items). */
  path?: string
  /** Node types that use it. */
  nodes: string[]
  /** Where the URL came from. */
  source?: 'workflow' | 'catalog'
  /** For unresolved items: searches that may find it. */
  search?: { huggingface: string; civitai: string }
  /** For unused items: why the workflow does not need it ("its node is bypassed"). */
  reason?: string
}

export interface WorkflowCheck {
  format: 'ui' | 'api'
  present: WorkflowItem[]
  /** Missing, with a URL to fetch it from. */
  missing: WorkflowItem[]
  /** Missing, and nothing says where to get it. */
  unresolved: WorkflowItem[]
  /** Named by the workflow but not used by it (muted or bypassed nodes, unused
   *  subgraphs, unselected or unreferenced entries): never downloaded. */
  unused: WorkflowItem[]
  /** Names or folders that would leave the models folder: never downloaded. */
  refused: { name: string; directory: string | null; reason: string }[]
}

export interface CatalogFile {
  name: string
  folder: string
  url: string
  /** Bytes, when the source says; null until resolved. */
  size: number | null
  /** Only when taken from the source itself. */
  sha256: string | null
  gated?: boolean
}

export interface CatalogSet {
  id: string
  name: string
  description: string
  licence: string
  gated: boolean
  page: string
  files: CatalogFile[]
}

export interface Catalog {
  version: number
  sets: CatalogSet[]
}

/** One entry of a set on one target: "loras/x.safetensors" and why, where it says. */
export interface SetEntryNote {
  index: number
  label: string
  why: string
}

/** What `applySet` did on one target: downloads started (followed by id),
 *  entries skipped (present) and entries that cannot be fetched, with why. */
export interface SetApplyStart {
  started: { index: number; label: string; id: string }[]
  skipped: SetEntryNote[]
  failed: SetEntryNote[]
}

/** What applying a model set means for one of its entries on one target. */
export interface SetPlanItem {
  /** The entry's index in the set's `models`. */
  index: number
  folder: string
  name: string
  /** fetch: download `url`; push: a "local" entry the target lacks (send the file);
   *  present: there with the right size/sha256; conflict: a different file has the name. */
  action: 'fetch' | 'push' | 'present' | 'conflict'
  url: string | null
  sha256: string | null
  reason: string | null
  /** Where the file is on the target (present, conflict). */
  path?: string
  /** push: the file with the entry's sha256 on this computer (a local target's),
   *  sent from there; absent when this computer has none. */
  from?: string
}

/** A set this PodPull (app, `podpull serve` or the CLI) applied, and to which
 *  targets, so the Sets view can show its state everywhere later. */
export interface AppliedSet {
  /** Stable per content: the same set applied again updates its record. */
  key: string
  set: ModelSet
  targetIds: string[]
  /** Epoch ms of the last apply. */
  at: number
}
