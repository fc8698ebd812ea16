// Which files ComfyUI lists in each model folder, as folder_paths.py filters
// them (every folder_names_and_paths entry carries its extension set). The
// inventory lists what ComfyUI would offer in its loaders, and the workflow
// parser counts a loader's value as a file only when ComfyUI could list it
// there ("pixel_space" in a VAE loader is no file). The pod helper keeps a
// copy of this table; test/fixtures/modelListing.json holds both to it.

/** folder_paths.supported_pt_extensions. */
export const PT_EXTENSIONS = [
  '.ckpt',
  '.pt',
  '.pt2',
  '.bin',
  '.pth',
  '.safetensors',
  '.pkl',
  '.sft'
]

/** Core ComfyUI lists no .gguf; the GGUF loaders (ComfyUI-GGUF's unet_gguf and
 *  clip_gguf lists) read them from the diffusion_models and text_encoders
 *  folders, so those two folders list them too. */
const WITH_GGUF = [...PT_EXTENSIONS, '.gguf']

/** `null`: every file (ComfyUI's empty extension set). `['']`: only names
 *  without an extension (ComfyUI's classifiers). */
export type ExtensionSet = readonly string[] | null

const EXTENSIONS: Record<string, ExtensionSet> = {
  checkpoints: PT_EXTENSIONS,
  configs: ['.yaml'],
  loras: PT_EXTENSIONS,
  vae: PT_EXTENSIONS,
  text_encoders: WITH_GGUF,
  diffusion_models: WITH_GGUF,
  clip_vision: PT_EXTENSIONS,
  style_models: PT_EXTENSIONS,
  embeddings: PT_EXTENSIONS,
  // ComfyUI lists diffusers models as folders; their files are all listed here.
  diffusers: null,
  vae_approx: PT_EXTENSIONS,
  controlnet: PT_EXTENSIONS,
  gligen: PT_EXTENSIONS,
  upscale_models: PT_EXTENSIONS,
  latent_upscale_models: PT_EXTENSIONS,
  hypernetworks: PT_EXTENSIONS,
  photomaker: PT_EXTENSIONS,
  classifiers: [''],
  model_patches: PT_EXTENSIONS,
  audio_encoders: PT_EXTENSIONS,
  background_removal: PT_EXTENSIONS,
  frame_interpolation: PT_EXTENSIONS,
  geometry_estimation: PT_EXTENSIONS,
  optical_flow: PT_EXTENSIONS,
  detection: PT_EXTENSIONS,
  // Folders popular custom nodes register, with the sets they register.
  animatediff_models: PT_EXTENSIONS,
  animatediff_motion_lora: PT_EXTENSIONS,
  ipadapter: PT_EXTENSIONS,
  sams: PT_EXTENSIONS,
  ultralytics: PT_EXTENSIONS,
  onnx: ['.onnx']
}

/** The model folders PodPull knows, by their current name (ComfyUI's own, then custom nodes'). */
export const KNOWN_KINDS = Object.keys(EXTENSIONS)

/** A folder under models/ that no loader registers: ComfyUI lists nothing
 *  there, PodPull shows what looks like a model file. */
const MODEL_LIKE = [...WITH_GGUF, '.onnx']

/** Legacy folder names ComfyUI maps to the current one (folder_paths.map_legacy):
 *  the same in models/ and as an extra_model_paths.yaml key. */
const LEGACY: Record<string, string> = { unet: 'diffusion_models', clip: 'text_encoders' }

/** A kind named by a directory under models/. ComfyUI's default list for
 *  controlnet also reads models/t2i_adapter; as a yaml key, t2i_adapter is a
 *  kind of its own that no core loader reads. */
export function kindOfModelsDir(name: string): string {
  return name === 't2i_adapter' ? 'controlnet' : (LEGACY[name] ?? name)
}

/** A kind named by an extra_model_paths.yaml key (folder_paths.map_legacy). */
export function kindOfYamlKey(key: string): string {
  return LEGACY[key] ?? key
}

/** os.path.splitext's extension, lower-cased: a leading dot starts no
 *  extension (".hidden" has none, ".hidden.pt" has ".pt"). */
export function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1)
  const dot = base.lastIndexOf('.')
  if (dot <= 0 || !/[^.]/.test(base.slice(0, dot))) return ''
  return base.slice(dot).toLowerCase()
}

/** The extension set a kind lists. `fromYaml`: a kind only an
 *  extra_model_paths.yaml names lists every file, as ComfyUI does. */
export function extensionsOf(kind: string, fromYaml = false): ExtensionSet {
  if (kind in EXTENSIONS) return EXTENSIONS[kind]!
  return fromYaml ? null : MODEL_LIKE
}

/** ComfyUI would list `name` in a folder of this kind. */
export function listsFile(kind: string, name: string, fromYaml = false): boolean {
  const set = extensionsOf(kind, fromYaml)
  return set === null || set.includes(extensionOf(name))
}
