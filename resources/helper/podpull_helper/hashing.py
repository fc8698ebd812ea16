# SHA-256 of a file, and of a .part's written prefix while it grows.
# TypeScript: engine/verify.ts, engine/frontierHash.ts.
import hashlib
import os
import threading

from .errors import Stopped
from .tuning import CHUNK


def sha256_file(path, stop=None, h=None, pos=0):
    """Hex SHA-256 of the file; with `h`, continues a hash of its first `pos` bytes."""
    h = h or hashlib.sha256()
    buf = bytearray(CHUNK)
    mv = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        f.seek(pos)
        while True:
            if stop is not None and stop.is_set():
                raise Stopped()
            n = f.readinto(buf)
            if not n:
                break
            h.update(mv[:n])
    return h.hexdigest()


class FrontierHash(object):
    """Hashes the .part in file order while it downloads: a thread reads (from
    the page cache) the bytes below the lowest segment's frontier, which only
    moves forward within one transfer. hashlib and os.pread release the GIL,
    so it runs beside the connections, and the check after the download
    reads only what is left (nothing, on one connection)."""

    def __init__(self, path, frontier):
        self.path = path
        self.frontier = frontier
        self.h = hashlib.sha256()
        self.pos = 0
        self.ended = threading.Event()
        self.failed = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        buf = bytearray(CHUNK)
        mv = memoryview(buf)
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            self.failed = True
            return
        try:
            while True:
                end = self.frontier()
                if end - self.pos < CHUNK:
                    if self.ended.wait(0.02):
                        return  # the rest is hashed by whoever finishes
                    continue
                n = os.preadv(fd, [mv], self.pos)
                if n <= 0:
                    self.failed = True
                    return
                self.h.update(mv[:n])
                self.pos += n
        except OSError:
            self.failed = True
        finally:
            os.close(fd)

    def finish(self):
        """Stops the thread; returns (hash, bytes hashed), or (None, 0) when it failed."""
        self.ended.set()
        self.thread.join()
        return (None, 0) if self.failed else (self.h, self.pos)
