# The content index of a workspace: the sha256 of model files keyed by
# absolute path, valid while the file keeps the size and mtime it had when
# hashed. Same file and rules as the app's (docs/formats.md "Content index").
# TypeScript: models/contentIndex.ts.
import os
import re
import time

from .jsonfile import atomic_write_json, read_json

VERSION = 1
_SHA = re.compile(r"^[0-9a-f]{64}$")


def index_path(ws):
    return os.path.join(ws, ".podpull", "content-index.json")


def stamp_of(st):
    """(size, whole milliseconds of mtime): the app's stampOf."""
    return st.st_size, st.st_mtime_ns // 1000000


def _parse(obj):
    out = {}
    files = obj.get("files") if isinstance(obj, dict) else None
    if not isinstance(files, dict):
        return out  # a torn or foreign file: it is only a cache
    for p, f in files.items():
        if not isinstance(f, dict) or not isinstance(f.get("sha256"), str):
            continue
        size, mtime = f.get("size"), f.get("mtimeMs")
        if not isinstance(size, int) or not isinstance(mtime, (int, float)):
            continue
        if not _SHA.match(f["sha256"]):
            continue
        at = f.get("at") if isinstance(f.get("at"), (int, float)) else 0
        out[p] = {"size": size, "mtimeMs": int(mtime), "sha256": f["sha256"], "at": at}
    return out


class ContentIndex(object):
    def __init__(self, ws):
        self.path = index_path(ws)
        self.files = _parse(read_json(self.path))
        self.dirty = set()

    def get(self, path, st):
        f = self.files.get(path)
        if f and (f["size"], f["mtimeMs"]) == stamp_of(st):
            return f["sha256"]
        return None

    def put(self, path, st, sha256):
        size, mtime = stamp_of(st)
        self.files[path] = {
            "size": size,
            "mtimeMs": mtime,
            "sha256": sha256.lower(),
            "at": time.time(),
        }
        self.dirty.add(path)

    def paths_with(self, sha256):
        """Paths recorded with this content that still are what was hashed."""
        want, out = sha256.lower(), []
        for p in sorted(self.files):
            if self.files[p]["sha256"] != want:
                continue
            try:
                st = os.stat(p)
            except OSError:
                continue
            if self.get(p, st) == want:
                out.append(p)
        return out

    def save(self):
        """Writes our new entries merged with what other processes wrote meanwhile."""
        if not self.dirty:
            return
        on_disk = _parse(read_json(self.path))
        for p in self.dirty:
            mine, theirs = self.files.get(p), on_disk.get(p)
            if mine and (theirs is None or theirs["at"] <= mine["at"]):
                on_disk[p] = mine
        self.files, self.dirty = on_disk, set()
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        files = {p: on_disk[p] for p in sorted(on_disk)}
        atomic_write_json(self.path, {"version": VERSION, "files": files}, sync=False)


def record_hash(ws, path, sha256):
    """A finished download's hash: the index is a cache, so a failure is ignored."""
    try:
        idx = ContentIndex(ws)
        idx.put(path, os.stat(path), sha256)
        idx.save()
    except OSError:
        pass
