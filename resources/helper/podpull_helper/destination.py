# Where a model may go (folder rules, realpath containment) and what is there now.
# TypeScript: destination.ts (ComfyUI model knowledge).
import os
import re

from .errors import HelperError
from .extrapaths import extra_placement, in_configured_root, inventory_roots
from .hashing import sha256_file


def validate_folder(folder):
    """The folder as "a/b": a plain relative path under models/ whose every part is
    a name (not blank, "." or "..", no control characters), as the app checks it
    (test/vectors/folders.json)."""
    if not isinstance(folder, str):
        raise HelperError("bad-request", "Choose a models folder, e.g. checkpoints or loras.")
    parts = re.split(r"[/\\]", folder)
    if (
        folder.startswith("/")
        or any(not p.strip() or p in (".", "..") for p in parts)
        or any(re.search(r"[\x00-\x1f\x7f]", p) for p in parts)
    ):
        raise HelperError(
            "unsafe-path",
            'The folder "%s" must be a sub-folder of models/, like "loras" or "loras/flux".'
            % folder[:80],
        )
    return "/".join(parts)


def contained(path, root):
    root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip("/") + "/")


def resolve_destination(models_dir, folder, filename, folder_root=None):
    """<models_dir>/<folder>/<filename>, or <folder_root>/<rest of folder>/<filename>
    when the app chose a root from extra_model_paths.yaml for this folder; proven
    inside that root with realpath."""
    folder = validate_folder(folder)
    if not os.path.isdir(models_dir):
        raise HelperError("not-found", "The models folder %s does not exist." % models_dir)
    root, sub, where = models_dir, folder, "the models folder"
    if folder_root is not None:
        root, sub, where = extra_placement(folder_root, folder)
    directory = os.path.join(root, sub) if sub else root
    if not contained(directory, root):
        raise HelperError("unsafe-path", "The folder %s leaves %s." % (folder, where))
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise HelperError("unwritable", "Cannot create %s: %s." % (directory, e.strerror))
    if not contained(directory, root):  # a symlink swapped in meanwhile
        raise HelperError("unsafe-path", "The folder %s leaves %s." % (folder, where))
    final = os.path.join(os.path.realpath(directory), filename)
    if os.path.lexists(final) and not contained(final, root):
        raise HelperError("unsafe-path", "%s points outside %s." % (final, where))
    return final


def same_file(path, size, sha256):
    try:
        if size is not None and os.path.getsize(path) != size:
            return False
        if sha256:
            return sha256_file(path) == sha256
        return size is not None
    except OSError:
        return False


def exists_message(path):
    return (
        "A different file is already at %s; choose another file name or allow overwriting."
        % path
    )


def check_stored_destination(key, models_dir, roots=()):
    """A path read back from the status file is a claim, not a fact: it must be
    a plain absolute path whose folder's realpath is itself (no symlink
    components) inside the models folder or one of the folders
    extra_model_paths.yaml configures (roots: [(folder, dir)]), with no symlink
    at the final name, the .part or its sidecar."""

    def refuse(why):
        return HelperError("unsafe-path", "%s %s; PodPull will not write there." % (key, why))

    if not isinstance(key, str) or not os.path.isabs(key) or os.path.normpath(key) != key:
        raise refuse("is not a plain absolute path")
    folder = os.path.dirname(key)
    if os.path.realpath(folder) != folder or not os.path.isdir(folder):
        raise refuse("goes through a symbolic link or a missing folder")
    if models_dir is not None and not in_configured_root(folder, models_dir, roots):
        if roots:
            raise refuse(
                "is outside the models folder and every folder extra_model_paths.yaml configures"
            )
        raise refuse("is outside the models folder")
    for p in (key, key + ".part", key + ".part.json"):
        if os.path.islink(p):
            raise refuse("has a symbolic link at %s" % os.path.basename(p))


def listed_entries(status, models_dir, roots=()):
    """The entries of this install: those whose key is a plain absolute path
    under the models folder or an extra root, through no symlinked folder that
    leads elsewhere. Anything that can write the status file can plant an
    entry at /etc/x or models/../../x; the app never sees it listed (its
    `resume` and `cancel` refuse such a path anyway). As the app's local
    target decides which entries are its own (targets/local/localTarget.ts)."""
    models = models_dir.rstrip("/")
    plain = [models] + [d.rstrip("/") for _kind, d in roots]
    real = [os.path.realpath(d).rstrip("/") for d in plain]
    prefixes = tuple(d + "/" for d in set(plain + real) if d)
    real_dirs = {}

    def under_real_root(folder):
        if folder not in real_dirs:
            r = os.path.realpath(folder)
            real_dirs[folder] = any(r == d or r.startswith(d + "/") for d in real if d)
        return real_dirs[folder]

    out = {}
    for key, e in status.items():
        if (
            isinstance(key, str)
            and os.path.isabs(key)
            and os.path.normpath(key) == key
            and key.startswith(prefixes)
            and under_real_root(os.path.dirname(key))
        ):
            out[key] = e
    return out


def listed_for(req, status):
    """`status` and `watch`: with the model folders named (the app always names
    them once it knows ComfyUI's folder), only the entries inside them; without,
    the file as it is (`podpull status --json`, diagnostics)."""
    models_dir = req.get("models_dir")
    if not isinstance(models_dir, str) or not os.path.isabs(models_dir):
        return status
    return listed_entries(status, models_dir, inventory_roots(req))
