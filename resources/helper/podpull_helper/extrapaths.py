# Folders that ComfyUI's extra_model_paths.yaml adds beside models/.
# TypeScript: extraModelPaths.ts (ComfyUI model knowledge).
import os
import re

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


# ComfyUI expands $VAR, ${VAR} and ~ in an extra_model_paths.yaml base_path
# with its own environment. The app parses the file, so it is told the home
# and the values of the variables the file names: from this process, else
# from the container's first process (a pod's `docker run -e` variables often
# reach PID 1 and ComfyUI but not an SSH session). Names that look like
# secrets are never sent.
_VAR = re.compile(r"\$(\w+|\{[^}]*\})", re.ASCII)
_SECRET = re.compile(r"TOKEN|KEY|SECRET|PASS|AUTH|CRED", re.IGNORECASE)


def referenced_env(text):
    names = set()
    for m in _VAR.finditer(text):
        name = m.group(1)
        names.add(name[1:-1] if name.startswith("{") else name)
    names = sorted(n for n in names if n and not _SECRET.search(n))
    if not names:
        return {}
    container = _process_env(1) if any(n not in os.environ for n in names) else {}
    out = {}
    for name in names:
        value = os.environ.get(name, container.get(name))
        if value is not None:
            out[name] = value
    return out


def _process_env(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            raw = f.read(1 << 20)
    except OSError:
        return {}
    out = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            out[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
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
