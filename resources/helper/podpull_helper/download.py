# One download: first answer, resume or clean start, retries, verify, install.
# TypeScript: engine/download.ts.
import os
import threading

from .bandwidth import WorkspaceBandwidth
from .clock import now
from .destination import exists_message, same_file
from .diskspace import disk_errors, free_bytes
from .errors import HelperError, RestartNeeded, Stopped
from .hashing import sha256_file
from .httpclient import content_range_total, Http, strong_validator
from .segments import request_span, SegmentsMixin, split
from .signedlink import LINK_REFUSED, redirects_to_signed_link, SignedLink
from .sidecar import open_part, SidecarMixin
from .tuning import SEGMENT_THRESHOLD
from .urls import strip_secrets


def short_duration(s):
    """The app's seconds(): "2 s", "0.5 s", "60 s"."""
    return "%g s" % (round(s) if s >= 10 else round(s, 1))


def long_duration(s):
    if s < 120:
        return "%d s" % round(s)
    if s < 7200:
        return "%d min" % round(s / 60)
    return "%d h" % round(s / 3600)


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
        self.max_wait = float(req.get("max_wait_s") or 300)  # longest wait a server may ask for
        self.http = Http(self.url, req.get("tokens"), req.get("token_hosts"), self.stall)
        signed = req.get("signed_redirect")
        if signed is None:
            signed = redirects_to_signed_link(self.url, req.get("token_hosts"))
        # A hub's resolve URL: ranges go only to the signed link it gives.
        self.link = SignedLink(self.http) if signed else None
        self.notice = None  # what the download waits for, shown on the row
        self.stop = threading.Event()
        ws = req.get("workspace")
        self.bandwidth = WorkspaceBandwidth(ws, job_id) if ws else None
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
                conn, resp, _ = self.open_at_link({"Range": "bytes=0-0"})
                if resp.status != 206 or content_range_total(resp)[1] is not None:
                    return conn, resp
                conn.close()  # no total size: one plain GET it is
            except RestartNeeded:
                pass  # 416: an empty file, which a plain GET serves
        conn, resp, _ = self.open_at_link(None)
        return conn, resp

    def open_at_link(self, headers):
        """GET of the file: at the hub's signed link when the URL is a resolve
        URL (a refused link is replaced once), else at the URL itself."""
        if self.link is None:
            return self.http.open(headers)
        url = self.link.current()
        try:
            return self.http.open(headers, url=url)
        except HelperError as e:
            if e.status not in LINK_REFUSED:
                raise
            return self.http.open(headers, url=self.link.refused(url))

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
        """Backs off (what the server asked for: Retry-After or RateLimit; else
        doubling from retry_base, capped at 30 s); True when asked to stop
        meanwhile. A server's wait past max_wait is not slept through: the
        download pauses, resumable, saying why (the app's waitToRetry)."""
        delay = e.retry_after
        if delay is None:
            delay = min(30.0, self.retry_base * (2 ** (failures - 1)))
            self.log("retry in %.2fs: %s" % (delay, e.message))
            return self.stop.wait(delay)
        host = e.host or "the server"
        if delay > self.max_wait:
            err = HelperError(
                "http",
                "%s asks to wait %s before going on (rate limit): the download is paused; "
                "resume it later." % (host, long_duration(delay)),
            )
            err.pause = True
            raise err
        what = "rate-limited by %s" % host if e.status == 429 else "%s is busy" % host
        self.set_notice("%s, going on in %s" % (what, short_duration(delay)))
        self.log("retry in %.2fs: %s" % (delay, e.message))
        try:
            return self.stop.wait(delay)
        finally:
            self.set_notice(None)

    def set_notice(self, text):
        self.notice = text
        self.on_notice()

    def on_notice(self):
        pass  # replaced by the worker: the row shows the notice

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
