// ComfyUI's loader nodes: which input names a model file, in which folder,
// and its position in a UI-format node's widgets_values.

export interface LoaderInput {
  input: string
  folder: string
  /** Index in widgets_values (UI format). */
  widget: number
}

const one = (input: string, folder: string, widget = 0): LoaderInput[] => [
  { input, folder, widget }
]
const clips = (n: number): LoaderInput[] =>
  Array.from({ length: n }, (_, i) => ({
    input: `clip_name${i + 1}`,
    folder: 'text_encoders',
    widget: i
  }))

export const LOADERS: Record<string, LoaderInput[]> = {
  CheckpointLoaderSimple: one('ckpt_name', 'checkpoints'),
  CheckpointLoader: [
    { input: 'config_name', folder: 'configs', widget: 0 },
    { input: 'ckpt_name', folder: 'checkpoints', widget: 1 }
  ],
  ImageOnlyCheckpointLoader: one('ckpt_name', 'checkpoints'),
  unCLIPCheckpointLoader: one('ckpt_name', 'checkpoints'),
  VAELoader: one('vae_name', 'vae'),
  LoraLoader: one('lora_name', 'loras'),
  LoraLoaderModelOnly: one('lora_name', 'loras'),
  UNETLoader: one('unet_name', 'diffusion_models'),
  UnetLoaderGGUF: one('unet_name', 'diffusion_models'),
  CLIPLoader: one('clip_name', 'text_encoders'),
  CLIPLoaderGGUF: one('clip_name', 'text_encoders'),
  DualCLIPLoader: clips(2),
  DualCLIPLoaderGGUF: clips(2),
  TripleCLIPLoader: clips(3),
  QuadrupleCLIPLoader: clips(4),
  CLIPVisionLoader: one('clip_name', 'clip_vision'),
  ControlNetLoader: one('control_net_name', 'controlnet'),
  DiffControlNetLoader: one('control_net_name', 'controlnet'),
  UpscaleModelLoader: one('model_name', 'upscale_models'),
  StyleModelLoader: one('style_model_name', 'style_models'),
  GLIGENLoader: one('gligen_name', 'gligen'),
  HypernetworkLoader: one('hypernetwork_name', 'hypernetworks'),
  PhotoMakerLoader: one('photomaker_model_name', 'photomaker'),
  ModelPatchLoader: one('name', 'model_patches'),
  AudioEncoderLoader: one('audio_encoder_name', 'audio_encoders'),
  LatentUpscaleModelLoader: one('model_name', 'latent_upscale_models'),
  LoadBackgroundRemovalModel: one('bg_removal_name', 'background_removal'),
  FrameInterpolationModelLoader: one('model_name', 'frame_interpolation'),
  OpticalFlowLoader: one('model_name', 'optical_flow')
}

export const MODEL_EXT = /\.(safetensors|sft|ckpt|pt2?|pth|bin|gguf|onnx|pkl)$/i

// VAELoader (nodes.py) offers values that are no file in models/vae:
// "pixel_space", and the image TAESD decoders it builds from a pair of
// vae_approx files; the video ones are single vae_approx files.
const VAE_BUILTINS = new Set([
  'pixel_space',
  'taesd',
  'taesdxl',
  'taesd3',
  'taef1',
  'taef2',
  'taeqi2_1'
])
const VIDEO_TAES = new Set([
  'taehv',
  'lighttaew2_2',
  'lighttaew2_1',
  'lighttaehy1_5',
  'taeltx_2',
  'taeh3'
])

/** The folder a loader's value is a file of, or null for an option ComfyUI
 *  builds in (no file to look for or download). */
export function valueFolder(type: string, input: LoaderInput, value: string): string | null {
  if (type !== 'VAELoader') return input.folder
  if (VAE_BUILTINS.has(value)) return null
  return VIDEO_TAES.has(value.replace(/\.[^.]*$/, '')) ? 'vae_approx' : input.folder
}
