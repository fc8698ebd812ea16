# The background hasher: hashes the model files the content index lacks, one
# at a time, at the lowest CPU and disk priority and a bounded read rate, so a
# running download keeps its speed. The index is saved after every file: a
# hasher stopped anywhere (pod restart, kill) skips finished files next time.
# Its progress is <ws>/.podpull/hashing.json, which `watch` passes on.
# TypeScript: models/contentHasher.ts.
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import time

from .contentindex import ContentIndex
from .detach import detach
from .errors import HelperError
from .extrapaths import inventory_roots
from .inventory import walk_inventory
from .jsonfile import atomic_write_json, read_json
from .owners import my_owner, owner_alive
from .protocol import need, status_for
from .tuning import CHUNK

DEFAULT_BYTES_PER_SEC = 64 << 20


def progress_path(ws):
    return os.path.join(ws, ".podpull", "hashing.json")


def running_progress(ws):
    """The live hasher's {done, total, current}, or None when none runs."""
    p = read_json(progress_path(ws))
    if not isinstance(p, dict) or p.get("state") != "running":
        return None
    if owner_alive(p.get("owner")) is False:
        return None
    return {k: p.get(k) for k in ("done", "total", "current")}


def cmd_index_content(req):
    """Starts the hasher unless one runs; `stop`: ends the running one (its
    finished files stay in the index). Answers the progress."""
    ws, _ = status_for(req)
    cur = read_json(progress_path(ws))
    live = isinstance(cur, dict) and cur.get("state") == "running"
    live = live and owner_alive(cur.get("owner")) is not False
    if req.get("stop"):
        if live:
            try:
                os.kill(cur["owner"]["pid"], signal.SIGTERM)
            except (OSError, KeyError, TypeError):
                pass
        return {"hashing": None, "stopped": bool(live)}
    if live:
        return {"hashing": running_progress(ws)}
    need(req, "models_dir")
    rate = req.get("bytes_per_sec") or DEFAULT_BYTES_PER_SEC
    if not isinstance(rate, int) or isinstance(rate, bool) or rate < 1:
        raise HelperError("bad-request", "bytes_per_sec must be a positive whole number.")
    detach(Hasher(ws, req["models_dir"], inventory_roots(req), rate).run)
    return {"hashing": running_progress(ws)}


def lowest_priority():
    """Last in line for the CPU and (where ionice exists) the disk."""
    try:
        os.nice(19)
    except OSError:
        pass
    tool = shutil.which("ionice")
    if tool:
        try:
            subprocess.call(
                [tool, "-c", "3", "-p", str(os.getpid())],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            pass


class Hasher(object):
    def __init__(self, ws, models_dir, roots, rate):
        self.ws, self.models_dir, self.roots, self.rate = ws, models_dir, roots, rate
        self.stopping = False
        self.state = {"done": 0, "total": 0, "current": None, "hashed": 0}

    def write(self, state):
        self.state["state"] = state
        self.state["owner"] = my_owner()
        self.state["at"] = time.time()
        atomic_write_json(progress_path(self.ws), self.state, sync=False)

    def on_term(self, _signum, _frame):
        self.stopping = True

    def run(self, started):
        signal.signal(signal.SIGTERM, self.on_term)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        os.makedirs(os.path.dirname(progress_path(self.ws)), exist_ok=True)
        # One hasher per workspace: a second one started at the same moment leaves.
        lock = os.open(progress_path(self.ws) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return started()
        self.write("running")
        started()  # the command answers once the progress file says running
        lowest_priority()
        skipped = set()
        # Files that land while it runs (a download finished without a sha256)
        # are found by the next walk: it ends when a walk finds nothing new.
        while not self.stopping:
            idx = ContentIndex(self.ws)  # again: workers record their downloads meanwhile
            todo = self.pending(idx, skipped)
            if not todo:
                break
            self.state["total"] += len(todo)
            for path in todo:
                if self.stopping:
                    return self.write("stopped")
                if not self.hash_one(idx, path):
                    skipped.add(path)
                self.state["done"] += 1
                self.state["current"] = None
                self.write("running")
        self.write("stopped" if self.stopping else "finished")

    def pending(self, idx, skipped):
        """The listed files the index lacks ("hashing 3 of 12" counts these)."""
        models, _ = walk_inventory(self.models_dir, self.roots)
        return [
            m["path"] for m in models if m["path"] not in skipped and not self.known(idx, m["path"])
        ]

    def hash_one(self, idx, path):
        """Hashes one file into the index; False when it could not (gone, unreadable, changed)."""
        try:
            st = os.stat(path)
        except OSError:
            return False
        self.state["current"] = path
        self.write("running")
        sha = self.sha256(path)
        if not sha:
            return False  # stopped (the loop sees it) or unreadable
        try:
            after = os.stat(path)
        except OSError:
            return False
        # A file changed while read gets hashed next time, with its new stamp.
        if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
            return False
        idx.put(path, st, sha)
        idx.save()
        self.state["hashed"] += 1
        return True

    @staticmethod
    def known(idx, path):
        try:
            return idx.get(path, os.stat(path)) is not None
        except OSError:
            return True  # gone: nothing to hash

    def sha256(self, path):
        """Read at most `rate` bytes a second; None when stopped, False when unreadable."""
        h = hashlib.sha256()
        buf = bytearray(CHUNK)
        mv = memoryview(buf)
        began, read = time.monotonic(), 0
        try:
            with open(path, "rb", buffering=0) as f:
                while not self.stopping:
                    n = f.readinto(buf)
                    if not n:
                        return h.hexdigest()
                    h.update(mv[:n])
                    read += n
                    ahead = read / float(self.rate) - (time.monotonic() - began)
                    if ahead > 0.001:
                        time.sleep(ahead)
        except OSError:
            return False
        return None
