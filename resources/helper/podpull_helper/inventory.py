# Installed models: `models`, `inventory`, `model-sha256`, `model-delete`, `extra-paths`.
# TypeScript: modelsWalker.ts, localModels.ts, podModels.ts (ComfyUI model knowledge).
import os
import stat

from .contentindex import ContentIndex
from .errors import HelperError
from .extrapaths import inventory_roots, referenced_env, MAX_EXTRA_PATHS_BYTES
from .hashing import sha256_file
from .modelfiles import kind_of_models_dir, lists_file
from .protocol import need


def cmd_models(req):
    models_dir = need(req, "models_dir")
    if not os.path.isdir(models_dir):
        raise HelperError("not-found", "The models folder %s does not exist." % models_dir)
    models, _partials = walk_inventory(models_dir, [])
    return {"models": [{k: m[k] for k in ("folder", "name", "size", "mtime")} for m in models]}


# ComfyUI follows symlinks at any depth (folder_paths.recursive_search); a
# directory already on the way down (a loop) is not entered again.
MAX_LISTING_DEPTH = 64


def walk_inventory(models_dir, roots):
    """Model files as ComfyUI lists them: each directory under models/ is a
    kind, each extra root its yaml key's kind; every depth, hidden files too,
    .git skipped; a file reached twice (a folder two kinds share, a root that
    points into models/) listed once, under the first kind that takes it."""
    models, partials, seen = [], [], set()

    def add(full, name, st, folder, kind, from_yaml, extra):
        key = (st.st_dev, st.st_ino)
        item = {"folder": folder, "size": st.st_size, "mtime": int(st.st_mtime), "path": full}
        if name.endswith(".part"):
            if key not in seen:
                seen.add(key)
                item["name"] = name[: -len(".part")]
                partials.append(item)
            return
        if name.endswith(".part.json") or ".part.json.tmp-" in name or key in seen:
            return
        if ".podpull-undo-" in name:  # a pending "keep one" keeps old contents aside
            return
        if not lists_file(kind, name, from_yaml):
            return
        seen.add(key)
        item["name"] = name
        if extra:
            item["extra"] = True
        models.append(item)

    def walk(directory, folder, kind, from_yaml, depth, above):
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        for name in names:
            full = os.path.join(directory, name)
            try:
                st = os.stat(full)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if name == ".git" or depth >= MAX_LISTING_DEPTH or key in above:
                    continue
                walk(full, folder + "/" + name, kind, from_yaml, depth + 1, above | {key})
            elif stat.S_ISREG(st.st_mode):
                add(full, name, st, folder, kind, from_yaml, from_yaml)

    def start(directory, folder, kind, from_yaml):
        try:
            st = os.stat(directory)
        except OSError:
            return
        if stat.S_ISDIR(st.st_mode):
            walk(directory, folder, kind, from_yaml, 1, {(st.st_dev, st.st_ino)})

    try:
        top = sorted(os.listdir(models_dir))
    except OSError:
        top = []
    for name in top:
        # Files straight in models/ belong to no kind; a hidden directory is none either.
        if not name.startswith("."):
            start(os.path.join(models_dir, name), name, kind_of_models_dir(name), False)
    for folder, directory in roots:
        start(directory, folder, folder, True)
    return models, partials


def cmd_inventory(req):
    models_dir = need(req, "models_dir")
    if not os.path.isdir(models_dir):
        raise HelperError("not-found", "The models folder %s does not exist." % models_dir)
    models, partials = walk_inventory(models_dir, inventory_roots(req))
    idx = index_of(req)
    for m in models if idx else ():
        try:
            sha = idx.get(m["path"], os.stat(m["path"]))
        except OSError:
            sha = None
        if sha:
            m["sha256"] = sha
    return {"models": models, "partials": partials}


def index_of(req):
    """The workspace's content index, when the request names the workspace."""
    ws = req.get("workspace")
    return ContentIndex(ws) if isinstance(ws, str) and os.path.isabs(ws) else None


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
    idx = index_of(req)
    st = os.stat(path)
    sha = idx.get(path, st) if idx else None
    if sha is None:
        sha = sha256_file(path)
        if idx:
            idx.put(path, st, sha)
            try:
                idx.save()
            except OSError:
                pass  # only a cache
    return {"sha256": sha}


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
    text = data.decode("utf-8", "replace")
    # The app parses the file; ComfyUI expands base_path here, with this home and environment.
    home = os.path.expanduser("~")
    return {"text": text, "path": path, "home": home, "env": referenced_env(text)}
