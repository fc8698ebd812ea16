// Which models/<folder> a file belongs in. ComfyUI's own folder names; the
// user can always change the suggestion before starting.
import { KNOWN_KINDS } from '../../shared/modelFiles'

/** Civitai's model types (from its API) → ComfyUI folders. */
const CIVITAI_TYPES: Record<string, string> = {
  checkpoint: 'checkpoints',
  lora: 'loras',
  locon: 'loras',
  dora: 'loras',
  lycoris: 'loras',
  textualinversion: 'embeddings',
  vae: 'vae',
  controlnet: 'controlnet',
  upscaler: 'upscale_models',
  hypernetwork: 'hypernetworks',
  motionmodule: 'animatediff_models'
}

export function folderForCivitaiType(type: string | undefined): string | undefined {
  return type ? CIVITAI_TYPES[type.toLowerCase().replace(/[^a-z]/g, '')] : undefined
}

/** Name patterns, first match wins; tested against the lower-cased file name
 *  and URL path (a repo name like "…/flux-vae/…" says a lot). */
const RULES: [RegExp, string][] = [
  [/clip[_-]?vision/, 'clip_vision'],
  [/(^|[^a-z])(lora|lycoris|locon)([^a-z]|$)/, 'loras'],
  [/controlnet|control[_-]|[_-]canny|[_-]depth|[_-]openpose/, 'controlnet'],
  [/(esrgan|upscale|[_-]x[248][_.-]|4x[_-]|2x[_-])/, 'upscale_models'],
  [/(^|[^a-z])(vae|ae\.safetensors)/, 'vae'],
  [
    /(t5xxl|umt5|clip[_-]?[lg]([^a-z]|$)|text[_-]?encoder|llava|qwen[_-]?2?\.?5?[_-]?vl)/,
    'text_encoders'
  ],
  [
    /(^|[^a-z])(unet|diffusion[_-]?model|flux1?[_-](dev|schnell|kontext)|wan2?\.?[12]|hunyuan|ltx)/,
    'diffusion_models'
  ],
  [/\.gguf$/, 'diffusion_models'],
  [/(embedding|textual[_-]?inversion)/, 'embeddings']
]

export function suggestFolder(
  filename: string,
  hints: { url?: string; civitaiType?: string } = {}
): string {
  const fromCivitai = folderForCivitaiType(hints.civitaiType)
  if (fromCivitai) return fromCivitai
  const name = filename.toLowerCase()
  for (const [re, folder] of RULES) if (re.test(name)) return folder
  if (hints.url) {
    let path = ''
    try {
      path = decodeURIComponent(new URL(hints.url).pathname.toLowerCase())
    } catch {
      path = ''
    }
    for (const [re, folder] of RULES) if (re.test(path)) return folder
  }
  if (/\.(pt|bin)$/.test(name) && !/model/.test(name)) return 'embeddings'
  return 'checkpoints'
}

// ── ComfyUI's folder names (folder_paths.py) ──────────────────────────────

/** The model folders a current ComfyUI knows (folder_paths.py), and those
 *  popular custom nodes add, by their current name. */
export const COMFY_FOLDERS = KNOWN_KINDS as [string, ...string[]]

/** Directory names under models/ that ComfyUI reads into another folder's
 *  list (models/t2i_adapter is the second default path of controlnet). As
 *  extra_model_paths.yaml keys only unet and clip are aliases (kindOfYamlKey). */
const ALIASES: Record<string, string> = {
  unet: 'diffusion_models',
  clip: 'text_encoders',
  t2i_adapter: 'controlnet'
}

/** A folder's current name: "unet" → "diffusion_models"; sub-folders keep their tail. */
export function canonicalFolder(folder: string): string {
  const [head, ...rest] = folder.split('/')
  const name = ALIASES[head!] ?? head!
  return [name, ...rest].join('/')
}

/** Every folder name ComfyUI reads for this folder (its legacy aliases too). */
export function folderGroup(folder: string): string[] {
  const canon = canonicalFolder(folder).split('/')[0]!
  return [canon, ...Object.keys(ALIASES).filter((a) => ALIASES[a] === canon)]
}

const KNOWN = new Set<string>([...COMFY_FOLDERS, ...Object.keys(ALIASES)])

/** A folder named in a repo path ("split_files/vae/ae.safetensors" → "vae"), nearest first. */
export function folderFromPath(path: string): string | undefined {
  const dirs = path.toLowerCase().split('/').slice(0, -1).reverse()
  const hit = dirs.find((d) => KNOWN.has(d))
  return hit ? canonicalFolder(hit) : undefined
}
