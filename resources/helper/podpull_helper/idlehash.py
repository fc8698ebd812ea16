# The hash of a download that has no sha256 to check, taken as it streams by
# a process of its own at the lowest CPU and disk priority: it gets only what
# the download leaves unused, so the download keeps its speed. A process, not
# a thread: a thread shares the worker's GIL, and one starved of CPU while it
# holds the GIL would stall every connection.
# The worker says how far the .part is written (JSON lines on a pipe) and,
# once the file is installed, {"installed": true}: the hasher then finishes
# from the page cache and records the hash in the content index. When the
# worker stops, pauses or dies first, the pipe closes without that word and
# nothing is recorded (the background hasher takes the file later).
# TypeScript: engine/frontierHash.ts (a nice-19 thread there).
import hashlib
import json
import os
import select
import shutil
import subprocess
import sys

from .contenthash import lowest_priority
from .contentindex import record_hash
from .tuning import CHUNK


class IdleHash(object):
    """The worker's side: starts the hasher, tells it the frontier."""

    def __init__(self, part, size, ws, final):
        fd = os.open(part, os.O_RDONLY)
        r, self.w = os.pipe()
        try:
            # Started at nice 19 (coreutils' nice, where present), not only
            # lowered once Python is up: its start-up competes with nothing either.
            nice = shutil.which("nice")
            self.proc = subprocess.Popen(
                ([nice, "-n", "19"] if nice else [])
                + [sys.executable, "-I", "-S", sys.argv[0], "idle-hash"],
                stdin=r,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(fd,),  # opened now: a short download may be installed before it runs
                start_new_session=True,  # a pause's signals to the worker are not for it
            )
        except OSError:
            os.close(self.w)
            raise
        finally:
            os.close(r)
            os.close(fd)
        self.sent = 0
        self.say({"fd": fd, "size": size, "ws": ws, "final": final})  # the pipe is empty: it fits
        os.set_blocking(self.w, False)

    @classmethod
    def start(cls, part, size, ws, final):
        """An IdleHash, or None where none can start (the download goes on)."""
        try:
            return cls(part, size, ws, final)
        except (OSError, ValueError):
            return None

    def say(self, msg):
        if self.w is None:
            return
        try:
            os.write(self.w, (json.dumps(msg) + "\n").encode("utf-8"))
        except BlockingIOError:
            pass  # the hasher is behind: a later frontier says more than this one
        except OSError:
            self.close()

    def advance(self, upto):
        if upto > self.sent:
            self.sent = upto
            self.say({"upto": upto})

    def installed(self):
        """The .part is the final file now: hash the rest and record it."""
        self.say({"installed": True})
        self.close()

    def close(self):
        """Without "installed" first: the hasher ends, recording nothing."""
        if self.w is not None:
            os.close(self.w)
            self.w = None
        if self.proc is not None:
            self.proc.poll()  # reaped when it has ended; else init adopts it
            self.proc = None


def cmd_idle_hash(req):
    lowest_priority()
    fd, size, ws, final = req["fd"], req["size"], req["ws"], req["final"]
    h = hashlib.sha256()
    buf = bytearray(CHUNK)
    mv = memoryview(buf)
    pos = upto = 0
    installed = False
    reading = True
    inbox = b""
    # Read between chunks, so the worker's pipe never fills while this lags.
    os.set_blocking(0, False)
    while True:
        if pos < upto:
            n = os.preadv(fd, [mv[: min(CHUNK, upto - pos)]], pos)
            if n <= 0:
                return {"recorded": False}
            h.update(mv[:n])
            pos += n
        elif installed:
            break
        elif not reading:
            return {"recorded": False}  # the worker ended before the install
        else:
            select.select([0], [], [])
        if not reading:
            continue
        try:
            data = os.read(0, 65536)
        except BlockingIOError:
            continue
        if not data:
            reading = False
            continue
        inbox += data
        while b"\n" in inbox:
            line, inbox = inbox.split(b"\n", 1)
            m = json.loads(line.decode("utf-8"))
            upto = max(upto, min(int(m.get("upto") or 0), size))
            if m.get("installed"):
                installed, upto = True, size
    st, now = os.fstat(fd), os.stat(final)
    # What was hashed is the installed file only if nobody replaced it since.
    if (st.st_ino, st.st_dev, now.st_size) != (now.st_ino, now.st_dev, size):
        return {"recorded": False}
    record_hash(ws, final, h.hexdigest())
    return {"recorded": True}
