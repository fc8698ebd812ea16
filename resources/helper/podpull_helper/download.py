# One download: first answer, resume or clean start, retries, verify, install.
# TypeScript: engine/download.ts.
import os
import threading

from .clock import now
from .destination import exists_message, same_file
from .diskspace import disk_errors, free_bytes
from .errors import HelperError, RestartNeeded, Stopped
from .hashing import sha256_file
from .httpclient import content_range_total, Http, strong_validator
from .segments import request_span, SegmentsMixin, split
from .sidecar import open_part, SidecarMixin
from .tuning import SEGMENT_THRESHOLD
from .urls import strip_secrets


class Download(SidecarMixin, SegmentsMixin):
    """One job in the worker: segments in a pre-sized .part written with
    os.pwrite, a sidecar saved after fdatasync, retries, verify, install."""

    def __init__(self, req, job_id, final, status, log):
        self.req = req
        self.id = job_id
        self.final = final
        self.part = final + ".part"
        self.sidecar_path = final + ".part.json"
        self.status = status
        self.log = log
        self.url = req["url"]
        self.safe_url = strip_secrets(self.url)
        self.connections = max(1, min(32, int(req.get("connections") or 1)))
        self.sha256 = (req.get("sha256") or "").lower() or None
        self.overwrite = bool(req.get("overwrite"))
        self.stall = float(req.get("stall_timeout_s") or 60)
        self.max_attempts = int(req.get("max_attempts") or 8)
        self.retry_base = float(req.get("retry_base_s") or 1.0)
        self.http = Http(self.url, req.get("tokens"), req.get("token_hosts"), self.stall)
        self.stop = threading.Event()
        # Set when one connection failed for good: the others finish their requests.
        self.winding = threading.Event()
        self.stop_reason = None
        self.open_conns = set()  # connections now reading: interrupt() unblocks them
        self.lock = threading.Lock()
        self.segments = []
        self.span = None  # bytes per request on several connections (request_span)
        self.size = None
        self.etag = None
        self.last_modified = None
        self.accepts_ranges = False
        self.fetched = 0
        self.attempts = 1
        self.errors = []
        self.fd = None
        self.created = now()
        self.recorded = 0  # bytes the sidecar on disk claims
        self.hashed = (None, 0)  # (hash, bytes) of the .part's start, from FrontierHash

    # -- planning

    def validator(self):
        return strong_validator(self.etag, self.last_modified)

    def fresh(self):
        """A clean start. The first answer tells size and validators; on one
        connection it is a GET of the whole file, whose body is the download."""
        self.discard_part()
        conn, resp = self.first_answer()
        self.etag = resp.getheader("ETag")
        self.last_modified = resp.getheader("Last-Modified")
        if resp.status == 206:
            _, self.size = content_range_total(resp)
            self.accepts_ranges = self.size is not None
            conn.close()  # byte 0 only: every connection asks its own spans
            conn = None
        else:
            total = resp.getheader("Content-Length")
            self.size = int(total) if total is not None and resp.status == 200 else None
            self.accepts_ranges = (resp.getheader("Accept-Ranges") or "").lower() == "bytes"
        self.check_space(self.size or 0)
        self.fd = open_part(self.part, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
        n = 1
        if self.size is not None:
            os.ftruncate(self.fd, self.size)  # sparse: segments write at their offsets
            if self.resumable() and self.size >= SEGMENT_THRESHOLD:
                n = self.connections
        self.segments = split(self.size, n)
        self.span = request_span(self.size, n)
        if self.resumable():
            self.save_sidecar()
        return (conn, resp) if conn is not None else None

    def first_answer(self):
        """Several connections ask byte 0 only (as the engine does): a
        whole-file answer cut at the first segment's end would already have
        pushed a socket buffer's worth of bytes (megabytes) that the next
        segment fetches again."""
        if self.connections > 1:
            try:
                conn, resp, _ = self.http.open({"Range": "bytes=0-0"})
                if resp.status != 206 or content_range_total(resp)[1] is not None:
                    return conn, resp
                conn.close()  # no total size: one plain GET it is
            except RestartNeeded:
                pass  # 416: an empty file, which a plain GET serves
        conn, resp, _ = self.http.open()
        return conn, resp

    def check_space(self, need):
        have = free_bytes(os.path.dirname(self.final))
        if need > have:
            raise HelperError(
                "no-space",
                "Not enough disk space for %s: it needs %.1f MiB, %.1f MiB are free in %s."
                % (
                    os.path.basename(self.final),
                    need / 1048576.0,
                    have / 1048576.0,
                    os.path.dirname(self.final),
                ),
            )

    def run(self):
        """Moves all bytes in; raises HelperError / Stopped."""
        with disk_errors(self.final):
            self.run_attempts()

    def run_attempts(self):
        for _ in range(4):
            first = None
            if self.load_sidecar():
                self.log("resuming from %d of %d bytes" % (self.downloaded(), self.size))
                self.fd = open_part(self.part, os.O_RDWR)
                self.check_space(self.size - self.downloaded())
            else:
                first = self.retrying(self.fresh)
            try:
                self.transfer(first)
                return
            except RestartNeeded:
                self.log("the server's copy changed or ignored Range: restarting clean")
                self.close_fd()
                self.discard_part()
        raise HelperError("http", "The server keeps changing the file; try again later.")

    def retrying(self, fn):
        """Calls fn again after network errors / 5xx / 429, with backoff."""
        failures = 0
        while True:
            try:
                return fn()
            except HelperError as e:
                if not e.retry:
                    raise
                failures += 1
                self.attempts += 1
                if failures >= self.max_attempts:
                    raise
                if self.wait_before_retry(e, failures):
                    raise Stopped()

    def wait_before_retry(self, e, failures):
        """Backs off (Retry-After when the server said, else doubling from
        retry_base, capped at 30 s); True when asked to stop meanwhile."""
        delay = e.retry_after
        if delay is None:
            delay = min(30.0, self.retry_base * (2 ** (failures - 1)))
        self.log("retry in %.2fs: %s" % (delay, e.message))
        return self.stop.wait(min(delay, 60.0))

    def interrupt(self, reason):
        """Stops the transfer now: a read blocked on a stalled server would
        otherwise keep a pause waiting for the whole stall timeout."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stop.set()
        self.cut_connections()

    def close_fd(self):
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None

    # -- finish

    def verify_and_install(self):
        with disk_errors(self.final):
            self.install()

    def install(self):
        self.close_fd()
        actual = os.path.getsize(self.part)
        if self.size is not None and actual != self.size:
            self.discard_part()
            raise HelperError(
                "checksum", "The file is %d bytes, the server said %d." % (actual, self.size)
            )
        if self.sha256:
            h, pos = self.hashed
            got = sha256_file(self.part, self.stop, h, pos if h else 0)
            if got != self.sha256:
                self.discard_part()
                raise HelperError(
                    "checksum",
                    "The file's SHA-256 is %s, not the expected %s: the download was removed."
                    % (got, self.sha256),
                )
        if os.path.lexists(self.final) and not self.overwrite:
            if not same_file(self.final, self.size, self.sha256):
                raise HelperError("exists", exists_message(self.final))
        os.rename(self.part, self.final)
        try:
            os.unlink(self.sidecar_path)
        except FileNotFoundError:
            pass
