# The workspace's bandwidth cap on the pod: <workspace>/.podpull/limits.json
# (docs/formats.md "Bandwidth limits"), written by the app with `set-limits`
# and re-read by every worker about once a second. Workers are separate
# processes, so each takes an equal share of the cap: each transferring worker
# keeps a heartbeat file, and the share is the cap over the fresh heartbeats.
# Inside a worker, one budget is shared by its connection threads; a thread
# whose bytes run past the credit stops reading its socket until the credit
# reaches them (TCP then slows the server). TypeScript: engine/bandwidthLimiter.ts,
# targets/limitsFile.ts.
import os
import threading
import time

from .clock import now
from .errors import HelperError
from .jsonfile import atomic_write_json, read_json

LIMITS_VERSION = 1
# A heartbeat older than this is a worker that stopped transferring.
FRESH_S = 3.0
REFRESH_S = 1.0
# Credit that may pile up while nobody reads, in seconds of the cap.
BURST_S = 0.05
# A waiting reader looks again this often, so a new cap reaches it at once.
SLICE_S = 0.25
# Under a cap, a read is at most this many seconds of it (and at least
# MIN_BATCH): what a connection owes then stays small, so the rate is even.
BATCH_S = 0.01
MIN_BATCH = 64 * 1024


def limits_path(ws):
    return os.path.join(ws, ".podpull", "limits.json")


def _speed_ok(v):
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0)


def valid_limits(obj):
    """The limits file's object when well-formed, else None (it caps nothing)."""
    if not isinstance(obj, dict) or obj.get("version") != LIMITS_VERSION:
        return None
    if not _speed_ok(obj.get("max_speed")) or not isinstance(obj.get("windows"), list):
        return None
    for w in obj["windows"]:
        if not (isinstance(w, list) and len(w) == 3 and _speed_ok(w[2])):
            return None
        if not all(isinstance(x, (int, float)) for x in w[:2]):
            return None
    return obj


def cap_at(limits, t):
    """Bytes/s in force at epoch `t` (None = unlimited)."""
    if limits is None:
        return None
    for start, end, cap in limits["windows"]:
        if start <= t < end:
            return cap
    return limits["max_speed"]


def cmd_set_limits(req):
    ws = req.get("workspace")
    limits = valid_limits(req.get("limits"))
    if not isinstance(ws, str) or not ws:
        raise HelperError("bad-request", "set-limits needs the workspace.")
    if limits is None:
        raise HelperError("bad-request", "The bandwidth limits are malformed.")
    os.makedirs(os.path.join(ws, ".podpull"), exist_ok=True)
    atomic_write_json(limits_path(ws), limits, sync=False)
    return {}


class Budget(object):
    """Bytes the connections of one worker may read: credit at the rate, paid after reading."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rate = None
        self.owed = 0.0
        self.paid = 0.0
        self.last = time.monotonic()

    def _accrue(self):
        t = time.monotonic()
        if self.rate is not None:
            credit = (t - self.last) * self.rate
            self.paid = min(self.paid + credit, self.owed + self.rate * BURST_S)
        self.last = t

    def set_rate(self, rate):
        with self.lock:
            if rate == self.rate:
                return
            self._accrue()
            self.rate = rate
            if rate is None:
                self.paid = self.owed

    def take(self, n, stop):
        """Counts n bytes read; returns once the credit covers them, the cap is lifted, or stop."""
        if self.rate is None:
            return
        with self.lock:
            self._accrue()
            self.owed += n
            upto = self.owed
        while not stop.is_set():
            with self.lock:
                self._accrue()
                if self.rate is None or self.paid >= upto:
                    return
                wait = (upto - self.paid) / self.rate
            stop.wait(min(wait, SLICE_S))


class WorkspaceBandwidth(object):
    """This worker's share of the workspace's cap, refreshed from the limits file."""

    def __init__(self, ws, job_id):
        self.ws = ws
        self.budget = Budget()
        self.beat_dir = os.path.join(ws, ".podpull", "bandwidth")
        self.beat = os.path.join(self.beat_dir, job_id)
        self.stamp = None
        self.limits = None
        self.last = 0.0
        self.share = None  # bytes/s this worker may use now (None = unlimited)

    def refresh(self, force=False):
        t = now()
        if not force and t - self.last < REFRESH_S:
            return
        self.last = t
        try:
            st = os.stat(limits_path(self.ws))
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = None
        if stamp != self.stamp:
            self.stamp = stamp
            self.limits = valid_limits(read_json(limits_path(self.ws))) if stamp else None
        cap = cap_at(self.limits, t)
        if cap is None:
            self.leave()
            self.share = None
        else:
            self.share = cap / max(1, self.heartbeat(t))
        self.budget.set_rate(self.share)

    def heartbeat(self, t):
        """Marks this worker as transferring; returns how many are."""
        try:
            os.makedirs(self.beat_dir, exist_ok=True)
            with open(self.beat, "a"):
                pass
            os.utime(self.beat, (t, t))
            count = 0
            for name in os.listdir(self.beat_dir):
                try:
                    if t - os.stat(os.path.join(self.beat_dir, name)).st_mtime < FRESH_S:
                        count += 1
                except OSError:
                    pass
            return count
        except OSError:
            return 1

    def leave(self):
        try:
            os.unlink(self.beat)
        except OSError:
            pass

    def take(self, n, stop):
        self.budget.take(n, stop)

    def batch(self, default):
        """The most one read may take now: `default` when uncapped."""
        rate = self.budget.rate
        if rate is None:
            return default
        return max(MIN_BATCH, min(default, int(rate * BATCH_S)))
