# `probe`: python, helper version, disk free, where ComfyUI is.
import os
import sys

from . import HELPER_VERSION
from .diskspace import free_bytes
from .protocol import need


COMFY_CANDIDATES = ("/workspace/ComfyUI", "/workspace/runpod-slim/ComfyUI", "/opt/ComfyUI")


def workspace_candidates(ws):
    base = os.path.normpath(ws)
    return (os.path.join(base, "ComfyUI"), os.path.join(base, "runpod-slim", "ComfyUI"))


def cmd_probe(req):
    ws = need(req, "workspace")
    try:
        os.makedirs(os.path.join(ws, ".podpull"), exist_ok=True)
        writable = os.access(ws, os.W_OK)
    except OSError:
        writable = False
    cands = []
    if req.get("comfyui"):
        cands.append(req["comfyui"])
    # Under the workspace first (a pod whose volume is at /data has /data/ComfyUI).
    for c in workspace_candidates(ws) + COMFY_CANDIDATES:
        if c not in cands:
            cands.append(c)
    found = next((c for c in cands if os.path.isdir(os.path.join(c, "models"))), None)
    return {
        "python": "%d.%d.%d" % sys.version_info[:3],
        "helper_version": HELPER_VERSION,
        "workspace": ws,
        "writable": writable,
        "free_bytes": free_bytes(ws),
        "comfyui": found,
        "candidates": cands,
    }
