# The shared status file: read-modify-write of our own entries, retention, staleness.
# TypeScript: status/statusFile.ts, status/statusStore.ts, status/entryAging.ts.
import json
import os

from .clock import now
from .errors import HelperError
from .jsonfile import atomic_write_json, open_regular, read_json
from .lock import StatusLock
from .owners import owner_alive
from .plaintext import plain_entry


STATUS_NAME = ".download_status.json"
ACTIVE = ("queued", "starting", "downloading", "verifying")
RUNNING = ("starting", "downloading", "verifying")
TERMINAL = ("completed", "error", "cancelled")
# Bounds no status file of real downloads comes near (an entry is under 1 KiB,
# finished ones age out): a bigger one is planted or broken, and parsing it
# would take gigabytes and many seconds. The app's statusFile.ts has the same.
MAX_STATUS_BYTES = 64 * 1024 * 1024
MAX_STATUS_ENTRIES = 100000


class NotAStatus(ValueError):
    """Too large to be real: set aside unread, like a corrupt file."""


def read_status_text(path):
    """The file's text ('' when missing); refused at once unless it is a regular file."""
    try:
        f = open_regular(path)
    except FileNotFoundError:
        return ""
    if f is None:
        raise HelperError(
            "unsupported",
            "%s is not a regular file (a FIFO or device?); PodPull will not read its "
            "downloads from it. Move it away." % path,
        )
    with f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_STATUS_BYTES:
            raise NotAStatus("it is %d MiB" % round(size / 1048576.0))
        return f.read()


def parse_status_text(text):
    """The file's object; ValueError when it is none (corrupt, or too many entries)."""
    if not text.strip():
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    if len(data) > MAX_STATUS_ENTRIES:
        raise NotAStatus("it has %d entries" % len(data))
    return data


def sidecar_progress(path):
    """(size, done) the sidecar beside path's .part proves, or None without one."""
    sc = read_json(path + ".part.json")
    if not isinstance(sc, dict) or not isinstance(sc.get("size"), int):
        return None
    segs = sc.get("segments")
    if not isinstance(segs, list):
        return None
    done = sum(s["done"] for s in segs if isinstance(s, dict) and isinstance(s.get("done"), int))
    return sc["size"], done


def keep_progress(e, size, done):
    """A stopped entry never claims less than its sidecar proves (nor a size it lost)."""
    if e.get("file_size") is None:
        e["file_size"] = size
    got = e.get("downloaded") if isinstance(e.get("downloaded"), int) else 0
    if done <= got:
        return
    total = e["file_size"] or size
    e["downloaded"] = done
    e["progress"] = min(100, done * 100 // total) if total else 0
    e["downloaded_mb"] = round(done / 1048576.0, 1)
    e["file_size_mb"] = round((total or 0) / 1048576.0, 1)


class StatusFile(object):
    """The shared status file: mkdir lock (proper-lockfile protocol), atomic
    replace, read-modify-write of our own entries only, retention, staleness."""

    def __init__(self, workspace, retention_hours=24.0, stale_minutes=10.0):
        self.path = os.path.join(workspace, STATUS_NAME)
        self.lock_path = self.path + ".lock"
        self.retention = float(retention_hours) * 3600
        self.stale = float(stale_minutes) * 60

    def _read_unlocked(self):
        try:
            return parse_status_text(read_status_text(self.path))
        except ValueError:
            try:
                os.replace(self.path, "%s.corrupt-%d" % (self.path, int(now())))
            except OSError:
                pass
            return {}

    def read(self):
        """A snapshot without the lock (writers replace atomically)."""
        try:
            return parse_status_text(read_status_text(self.path))
        except (OSError, ValueError):
            return {}

    def update(self, fn):
        """Read-modify-write under the lock; fn mutates the dict, returns a result."""
        lock = StatusLock(self.lock_path)
        lock.acquire()
        try:
            data = self._read_unlocked()
            result = fn(data)
            self._prune(data)
            # No fsync under the lock (as in the TypeScript engine): a torn file
            # after a power cut is recovered like any corrupt one.
            atomic_write_json(self.path, data, sync=False)
            return result
        finally:
            lock.release()

    def _prune(self, data):
        cutoff = now() - self.retention
        for key in list(data):
            e = data[key]
            if (
                isinstance(e, dict)
                and e.get("status") in ("completed", "cancelled")
                and isinstance(e.get("timestamp"), (int, float))
                and e["timestamp"] < cutoff
            ):
                del data[key]

    def stale_reason(self, e):
        if not isinstance(e, dict) or e.get("status") not in ACTIVE:
            return None
        if owner_alive(e.get("owner")) is False:
            return "the download process stopped"
        # A queued job waits in its owner's memory and makes no progress while
        # it waits: only its owner's death makes it stale.
        if e.get("status") not in RUNNING:
            return None
        pt = e.get("progress_time") or e.get("timestamp")
        if isinstance(pt, (int, float)) and now() - pt > self.stale:
            return "the download made no progress for %d minutes" % (self.stale // 60)
        return None

    def mark_stale(self):
        """Marks stale entries paused or error (written back) and returns the file's object."""
        data = self.read()
        if not any(self.stale_reason(e) for e in data.values()):
            return data

        def fn(d):
            for path, e in d.items():
                reason = self.stale_reason(e)
                if not reason:
                    continue
                # A worker killed between two status writes may have saved a
                # sidecar the entry does not show yet: the .part can go on from
                # what it proves.
                kept = sidecar_progress(path)
                if kept is not None:
                    e["resumable"] = True
                    keep_progress(e, *kept)
                if e.get("resumable"):
                    e.update(status="paused", error=None, error_code=None)
                else:
                    e.update(status="error", error="The download stopped: %s." % reason)
                    e["error_code"] = "stale"
                # Its process went away (pod restart, kill): not the user's pause,
                # so the app resumes it (docs/formats.md "interrupted").
                e["interrupted"] = True
                e.update(owner=None, speed=0, eta=None, timestamp=now(), speed_mb=0)
                e["eta_minutes"] = None
                e["rev"] = int(e.get("rev") or 0) + 1
            return d

        return self.update(fn)

    def find(self, job_id):
        for key, e in self.mark_stale().items():
            if isinstance(e, dict) and e.get("id") == job_id:
                return key, e
        raise HelperError("not-found", "No download with id %s on this pod." % job_id)


def put_entry(data, key, entry):
    """Replaces one entry, keeping rev monotonic across writers; its text
    stored without control characters."""
    old = data.get(key)
    old_rev = old.get("rev", 0) if isinstance(old, dict) else 0
    entry["rev"] = max(int(old_rev or 0), int(entry.get("rev") or 0)) + 1
    entry["timestamp"] = now()
    data[key] = plain_entry(entry)
