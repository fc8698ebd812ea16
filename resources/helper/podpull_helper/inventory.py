# Installed models: `models`, `inventory`, `model-sha256`, `model-delete`, `extra-paths`.
# TypeScript: modelsWalker.ts, localModels.ts (ComfyUI model knowledge).
import os

from .errors import HelperError
from .extrapaths import inventory_roots, MAX_EXTRA_PATHS_BYTES
from .hashing import sha256_file
from .protocol import need


def cmd_models(req):
    models_dir = need(req, "models_dir")
    out = []
    if not os.path.isdir(models_dir):
        raise HelperError("not-found", "The models folder %s does not exist." % models_dir)
    for root, dirs, files in os.walk(models_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = os.path.relpath(root, models_dir)
        if rel == ".":
            continue
        for name in sorted(files):
            if name.startswith(".") or name.endswith((".part", ".part.json")):
                continue
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue
            out.append({"folder": rel, "name": name, "size": st.st_size, "mtime": st.st_mtime})
    return {"models": out}


INVENTORY_DEPTH = 4


def walk_inventory(models_dir, roots):
    models, partials, seen = [], [], set()

    def walk(directory, folder, depth, extra):
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        for name in names:
            if name.startswith("."):
                continue
            full = os.path.join(directory, name)
            try:
                st = os.stat(full)
            except OSError:
                continue
            if os.path.isdir(full):
                if depth < INVENTORY_DEPTH:
                    walk(full, folder + "/" + name if folder else name, depth + 1, extra)
                continue
            if not os.path.isfile(full) or not folder or full in seen:
                continue
            seen.add(full)
            item = {"folder": folder, "size": st.st_size, "mtime": int(st.st_mtime), "path": full}
            if name.endswith(".part"):
                item["name"] = name[: -len(".part")]
                partials.append(item)
            elif not (name.endswith(".part.json") or ".part.json.tmp-" in name):
                item["name"] = name
                if extra:
                    item["extra"] = True
                models.append(item)

    walk(models_dir, "", 0, False)
    for folder, directory in roots:
        walk(directory, folder, 1, True)
    return models, partials


def cmd_inventory(req):
    models_dir = need(req, "models_dir")
    if not os.path.isdir(models_dir):
        raise HelperError("not-found", "The models folder %s does not exist." % models_dir)
    models, partials = walk_inventory(models_dir, inventory_roots(req))
    return {"models": models, "partials": partials}


def listed_kind(req):
    path = need(req, "path")
    models, partials = walk_inventory(need(req, "models_dir"), inventory_roots(req))
    if any(m["path"] == path for m in models):
        return path, "model"
    if any(m["path"] == path for m in partials):
        return path, "partial"
    raise HelperError("not-found", "%s is not one of this pod's model files." % path[:300])


def cmd_model_sha256(req):
    path, kind = listed_kind(req)
    if kind != "model":
        raise HelperError("bad-request", "A partial download has no final hash yet.")
    return {"sha256": sha256_file(path)}


def cmd_model_delete(req):
    path, kind = listed_kind(req)
    os.remove(path)
    if kind == "partial":
        try:
            os.remove(path + ".json")
        except OSError:
            pass
    return {}


def cmd_extra_paths(req):
    comfyui = need(req, "comfyui")
    path = os.path.join(comfyui, "extra_model_paths.yaml")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_EXTRA_PATHS_BYTES + 1)
    except OSError:
        return {"text": None, "path": path}
    if len(data) > MAX_EXTRA_PATHS_BYTES:
        raise HelperError("too-large", "%s is larger than 1 MiB; it was not read." % path)
    return {"text": data.decode("utf-8", "replace"), "path": path}
