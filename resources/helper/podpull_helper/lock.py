# The status lock: a directory, its owner file and nonce, stale takeover.
# TypeScript: status/statusLock.ts.
import json
import os
import random
import threading
import time

from .clock import now
from .errors import HelperError
from .owners import HOSTNAME


# The status lock (docs/formats.md "Lock"), as src/main/status/statusLock.ts.
LOCK_STALE = 10.0  # s: a lock older than this is stale, its holder died


LOCK_UPDATE = 2.0  # s: a holder touches its lock this often
LOCK_WAIT = 30.0  # s: how long a writer waits for a live holder


class StatusLock(object):
    """`<status>.lock`: a directory holding an `owner` file with a random nonce,
    refreshed (mtime) while held, released only by its owner; a lock older than
    LOCK_STALE s is taken over. The same protocol as src/main/status/statusLock.ts
    (docs/formats.md "Lock")."""

    def __init__(self, path):
        self.path = path
        self.nonce = os.urandom(12).hex()
        self.compromised = False
        self._stop = threading.Event()

    def _owner_nonce(self):
        try:
            with open(os.path.join(self.path, "owner")) as f:
                v = json.load(f)
            return v.get("nonce") if isinstance(v, dict) else None
        except (OSError, ValueError):
            return None

    def _try_create(self):
        try:
            os.mkdir(self.path)
        except FileExistsError:
            return False
        owner = {"nonce": self.nonce, "host": HOSTNAME, "pid": os.getpid(), "engine": "helper"}
        with open(os.path.join(self.path, "owner"), "x") as f:
            f.write(json.dumps(owner) + "\n")
        return True

    def _take_over(self, stale_ino):
        # Moved aside first: if what we moved is a fresh lock (made between our
        # stat and our rename), it goes back rather than being deleted.
        aside = "%s.stale-%s" % (self.path, self.nonce)
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        try:
            st = os.stat(aside)
            if st.st_ino != stale_ino and time.time() - st.st_mtime <= LOCK_STALE:
                os.rename(aside, self.path)
                return
        except OSError:
            return
        for name in os.listdir(aside):
            try:
                os.unlink(os.path.join(aside, name))
            except OSError:
                pass
        try:
            os.rmdir(aside)
        except OSError:
            pass

    def acquire(self):
        deadline = now() + LOCK_WAIT
        while not self._try_create():
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                continue
            if time.time() - st.st_mtime > LOCK_STALE:
                self._take_over(st.st_ino)
                continue
            if now() > deadline:
                raise HelperError(
                    "internal",
                    "The status file stays locked (%s); is another process stuck?" % self.path,
                )
            time.sleep(random.uniform(0.05, 0.1))
        t = threading.Thread(target=self._refresh, daemon=True)
        t.start()

    def _refresh(self):
        while not self._stop.wait(LOCK_UPDATE):
            if self._owner_nonce() != self.nonce:
                self.compromised = True
                return
            try:
                os.utime(self.path)
            except OSError:
                pass

    def release(self):
        self._stop.set()
        if self._owner_nonce() != self.nonce:
            return  # taken over as stale: theirs now
        try:
            os.unlink(os.path.join(self.path, "owner"))
            os.rmdir(self.path)
        except OSError:
            pass
