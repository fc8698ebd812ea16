# `push-keep`: the pod-side owner of an upload while the app sends its bytes.
# It holds the status entry with its own pid (so the entry is live while it
# runs and stale the moment it dies), writes progress, speed and ETA from the
# .part's length, and obeys pause/cancel like a download worker. It ends when
# the app hangs up (SSH channel closed or terminal gone): the entry is then
# paused and marked interrupted, resumable from what the .part holds.
# Over exec + SFTP (`verify` in the request) it also hashes the .part as it
# grows — the app's writes arrive in order, so the .part grows without holes
# — and installs it when the app sends {"commit": sha256} on stdin, without
# reading the whole file again (it does, when the running hash disagrees).
# TypeScript: targets/pod/podPush.ts (the sender).
import hashlib
import json
import os
import select
import signal
import sys

from .clock import now
from .errors import HelperError
from .owners import my_owner, owner_alive
from .protocol import emit
from .partfile import open_part
from .status import ACTIVE, put_entry
from .upload import commit_upload, find_upload, save_upload_sidecar

TICK = 0.25
# Hashed between two looks at the control file and the link.
HASH_STEP = 16 << 20


class Hangup(Exception):
    pass


def on_signal(_signum, _frame):
    raise Hangup()


class Keeper(object):
    def __init__(self, ws, status, key, entry, sc, req):
        self.ws, self.status, self.key, self.sc = ws, status, key, sc
        self.id = entry["id"]
        self.entry = dict(entry)
        self.control = os.path.join(ws, ".podpull", "control", self.id)
        self.speed = 0.0
        self.sample = None
        self.held = False
        start = req.get("from")
        if start is not None and (
            not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= sc["size"]
        ):
            raise HelperError("bad-request", "The offset must be a whole number of bytes.")
        self.start = start
        self.verify = bool(req.get("verify"))
        self.hasher = hashlib.sha256()
        self.hashed = 0
        self.inbox = b""
        self.input_open = self.verify

    def part_size(self):
        try:
            return min(os.path.getsize(self.key + ".part"), self.sc["size"])
        except OSError:
            return 0

    def write(self, **fields):
        """Our fields into the entry while we hold it: the first write takes it
        (nobody alive holds it), later ones only while it is still ours (a
        push-commit or a pause settles it under its own name)."""
        self.entry.update(fields)
        pid = os.getpid()

        def fn(data):
            cur = data.get(self.key)
            if not isinstance(cur, dict) or cur.get("id") != self.id:
                return False
            owner = cur.get("owner")
            ours = isinstance(owner, dict) and owner.get("pid") == pid
            if self.held and not ours:
                return False
            if not self.held and not ours and owner_alive(owner):
                return False
            put_entry(data, self.key, self.entry)
            self.entry["rev"] = data[self.key]["rev"]
            return True

        ok = self.status.update(fn)
        self.held = self.held or ok
        return ok

    def progress(self):
        done = self.part_size()
        t = now()
        if self.sample is None:
            self.sample = (t, done)
        t0, d0 = self.sample
        if t - t0 >= 0.5:
            inst = (done - d0) / (t - t0)
            self.speed = inst if self.speed == 0 else 0.3 * inst + 0.7 * self.speed
            self.sample = (t, done)
        size = self.sc["size"]
        eta = (size - done) / self.speed if self.speed > 0 else None
        f = {
            "downloaded": done,
            "progress": int(done * 100 // size) if size else 0,
            "speed": round(self.speed, 1),
            "eta": round(eta, 1) if eta is not None else None,
            "downloaded_mb": round(done / 1048576.0, 1),
            "speed_mb": round(self.speed / 1048576.0, 1),
            "eta_minutes": round(eta / 60.0, 1) if eta is not None else None,
        }
        if done > (self.entry.get("downloaded") or 0):
            f["progress_time"] = t
        return f

    def cut_to_start(self):
        """Bytes past where the app sends from were never proven: drop them, so
        the .part's length is what this run has (and the running hash reads it)."""
        if self.start is None:
            return
        fd = open_part(self.key + ".part", os.O_WRONLY)
        try:
            if os.fstat(fd).st_size > self.start:
                os.ftruncate(fd, self.start)
        finally:
            os.close(fd)

    def hash_more(self, step=HASH_STEP):
        """Hashes what the .part grew by (at most `step`); True when it is caught up."""
        if not self.verify:
            return True
        upto = min(self.part_size(), self.hashed + step)
        if upto <= self.hashed:
            return True
        fd = os.open(self.key + ".part", os.O_RDONLY | os.O_NOFOLLOW)
        try:
            while self.hashed < upto:
                data = os.pread(fd, min(1 << 20, upto - self.hashed), self.hashed)
                if not data:
                    break
                self.hasher.update(data)
                self.hashed += len(data)
        finally:
            os.close(fd)
        return self.hashed >= self.part_size()

    def read_input(self):
        """The app's next message on stdin, or None (EOF ends input, not the upload)."""
        data = os.read(0, 65536)
        if not data:
            self.input_open = False
            return None
        self.inbox += data
        return self.next_message()

    def next_message(self):
        if b"\n" not in self.inbox:
            return None
        line, self.inbox = self.inbox.split(b"\n", 1)
        try:
            m = json.loads(line.decode("utf-8"))
        except ValueError:
            return None
        return m if isinstance(m, dict) else None

    def commit(self, sha):
        """The app sent every byte: verify (from the running hash) and install."""
        # Past this point the app waits for the answer: a hangup now must not
        # turn a half-installed upload back into a paused one.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        size = self.sc["size"]
        while self.part_size() > self.hashed and self.hashed < size:
            self.hash_more(1 << 62)
        digest = self.hasher.hexdigest() if self.hashed == size else None
        try:
            out = commit_upload(self.status, self.key, self.id, self.sc, sha, digest)
        except HelperError as e:
            emit({"type": "failed", "code": e.code, "error": e.message})
            return
        emit({"type": "committed", "path": out["path"]})

    def control_word(self):
        try:
            with open(self.control) as f:
                return f.read().strip()
        except OSError:
            return None

    def stop(self, word, interrupted):
        f = self.progress()
        f.update(speed=0, eta=None, speed_mb=0, eta_minutes=None, owner=None)
        if word == "cancel":
            if self.write(status="cancelled", resumable=False, interrupted=False, **f):
                for p in (self.key + ".part", self.key + ".part.json"):
                    try:
                        os.unlink(p)
                    except FileNotFoundError:
                        pass
        elif self.write(status="paused", resumable=True, interrupted=interrupted, **f):
            if os.path.exists(self.key + ".part"):
                save_upload_sidecar(self.key, self.sc, f["downloaded"])
        try:
            os.unlink(self.control)
        except OSError:
            pass

    def run(self):
        first = self.progress()
        first.update(owner=my_owner(), interrupted=False, error=None, error_code=None)
        if not self.write(status="downloading", **first):
            raise HelperError("bad-request", "Another process is pushing this file now.")
        self.cut_to_start()
        emit({"type": "held", "id": self.id})
        poller = select.poll()
        poller.register(sys.stdout.fileno(), 0)
        if self.input_open:
            poller.register(0, select.POLLIN)
        last_write = now()
        caught_up = True
        while True:
            for fd, ev in poller.poll(0 if not caught_up else TICK * 1000):
                if fd != 0 and ev & (select.POLLERR | select.POLLHUP):
                    raise Hangup()
                if fd == 0 and ev:
                    m = self.read_input()
                    if not self.input_open:
                        poller.unregister(0)
                    while m is not None:
                        if "commit" in m:
                            return self.commit(m["commit"])
                        m = self.next_message()
            word = self.control_word()
            if word in ("pause", "cancel"):
                self.stop(word, False)
                emit({"type": "end", "status": "cancelled" if word == "cancel" else "paused"})
                return
            if now() - last_write >= 1.0:
                if not self.write(status="downloading", owner=my_owner(), **self.progress()):
                    emit({"type": "end", "status": "taken"})  # push-commit has it now
                    return
                save_upload_sidecar(self.key, self.sc, self.entry["downloaded"])
                last_write = now()
                emit({"type": "heartbeat", "t": last_write})
            caught_up = self.hash_more()


def cmd_push_keep(req):
    ws, status, key, e, sc = find_upload(req)
    if e.get("status") in ACTIVE and owner_alive(e.get("owner")):
        raise HelperError("bad-request", "Another process is pushing this file now.")
    keeper = Keeper(ws, status, key, e, sc, req)
    # SIGTERM: a pause or cancel (stop_job writes the control word first);
    # SIGHUP: the terminal the app sent through went away.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        keeper.run()
    except (Hangup, BrokenPipeError, KeyboardInterrupt):
        word = keeper.control_word()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        keeper.stop(word if word in ("pause", "cancel") else "pause", word is None)
        try:
            sys.stdout = None
        except Exception:
            pass
        os._exit(0)
    return {"ended": True}
