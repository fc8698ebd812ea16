# Folders that ComfyUI's extra_model_paths.yaml adds beside models/.
# TypeScript: extraModelPaths.ts (ComfyUI model knowledge).
import os

from .errors import HelperError


# The inventory with the folders extra_model_paths.yaml adds (parsed by the app,
# passed in as roots), leftover .part files, and delete / sha256 of a file the
# inventory lists (nothing else can be named). The hash is computed here on the
# pod: a model is never copied to be hashed.

MAX_EXTRA_PATHS_BYTES = 1 << 20


def inventory_roots(req):
    roots = req.get("roots") or []
    if not isinstance(roots, list):
        raise HelperError("bad-request", "roots must be a list.")
    out = []
    for r in roots:
        if not isinstance(r, dict) or not all(isinstance(r.get(k), str) for k in ("dir", "folder")):
            raise HelperError("bad-request", "Each root needs a folder and a dir.")
        if not os.path.isabs(r["dir"]):
            raise HelperError("bad-request", "An extra models folder must be an absolute path.")
        out.append((r["folder"], r["dir"]))
    return out


# extra_model_paths.yaml is parsed by the app, which also picks the root a
# folder's downloads go to (an `is_default: true` path, or the only path of a
# folder ComfyUI doesn't know): `start` gets it as folder_root, `resume` gets
# every configured root as roots. Containment is proven here, on the pod.


def extra_placement(folder_root, folder):
    """(root, sub-folder below it, name for messages) for a download into folder."""
    if (
        not isinstance(folder_root, str)
        or not os.path.isabs(folder_root)
        or os.path.normpath(folder_root) != folder_root.rstrip("/") or folder_root == "/"
    ):
        raise HelperError("bad-request", "folder_root must be a plain absolute path.")
    root = folder_root.rstrip("/")
    if not os.path.isdir(root):
        raise HelperError(
            "not-found",
            "%s, the %s folder extra_model_paths.yaml sets as the default, does not exist: "
            "create it or correct the file." % (root, folder.split("/")[0]),
        )
    return root, "/".join(folder.split("/")[1:]), root


def in_configured_root(folder, models_dir, roots):
    """folder (a realpath) lies below models/, or in or below an extra root."""
    real = os.path.realpath(models_dir).rstrip("/")
    if folder.startswith(real + "/"):
        return True
    for _kind, d in roots:
        r = os.path.realpath(d).rstrip("/")
        if r and (folder == r or folder.startswith(r + "/")):
            return True
    return False
