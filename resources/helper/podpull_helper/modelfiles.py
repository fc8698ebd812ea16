# Which files ComfyUI lists in each model folder, as folder_paths.py filters
# them, and which kind a directory under models/ is.
# TypeScript: src/shared/modelFiles.ts, of which this is a copy;
# test/fixtures/modelListing.json holds both engines to the same listing.
import os

PT_EXTENSIONS = (".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft")
# Core ComfyUI lists no .gguf; the GGUF loaders read them from these two folders.
_WITH_GGUF = PT_EXTENSIONS + (".gguf",)

# None: every file (ComfyUI's empty set). ("",): names without an extension.
KIND_EXTENSIONS = {
    "checkpoints": PT_EXTENSIONS,
    "configs": (".yaml",),
    "loras": PT_EXTENSIONS,
    "vae": PT_EXTENSIONS,
    "text_encoders": _WITH_GGUF,
    "diffusion_models": _WITH_GGUF,
    "clip_vision": PT_EXTENSIONS,
    "style_models": PT_EXTENSIONS,
    "embeddings": PT_EXTENSIONS,
    "diffusers": None,
    "vae_approx": PT_EXTENSIONS,
    "controlnet": PT_EXTENSIONS,
    "gligen": PT_EXTENSIONS,
    "upscale_models": PT_EXTENSIONS,
    "latent_upscale_models": PT_EXTENSIONS,
    "hypernetworks": PT_EXTENSIONS,
    "photomaker": PT_EXTENSIONS,
    "classifiers": ("",),
    "model_patches": PT_EXTENSIONS,
    "audio_encoders": PT_EXTENSIONS,
    "background_removal": PT_EXTENSIONS,
    "frame_interpolation": PT_EXTENSIONS,
    "geometry_estimation": PT_EXTENSIONS,
    "optical_flow": PT_EXTENSIONS,
    "detection": PT_EXTENSIONS,
    "animatediff_models": PT_EXTENSIONS,
    "animatediff_motion_lora": PT_EXTENSIONS,
    "ipadapter": PT_EXTENSIONS,
    "sams": PT_EXTENSIONS,
    "ultralytics": PT_EXTENSIONS,
    "onnx": (".onnx",),
}

# A models/ directory no loader registers: what looks like a model file.
_MODEL_LIKE = _WITH_GGUF + (".onnx",)

# models/unet, models/clip and models/t2i_adapter are read into these lists.
_MODELS_DIR_KINDS = {
    "unet": "diffusion_models",
    "clip": "text_encoders",
    "t2i_adapter": "controlnet",
}


def kind_of_models_dir(name):
    return _MODELS_DIR_KINDS.get(name, name)


def lists_file(kind, name, from_yaml):
    """ComfyUI would list name in a folder of this kind (a kind only the yaml
    names lists every file)."""
    if kind in KIND_EXTENSIONS:
        exts = KIND_EXTENSIONS[kind]
    else:
        exts = None if from_yaml else _MODEL_LIKE
    return exts is None or os.path.splitext(name)[1].lower() in exts
