# Moving bytes: one thread per segment, range requests, pwrite at offsets.
# TypeScript: engine/transfer.ts, engine/segmentFetcher.ts, engine/segmentPlanner.ts.
import errno
import http.client
import os
import queue
import socket
import threading

from .clock import now
from .diskspace import disk_errors, disk_full
from .errors import HelperError, RestartNeeded, Stopped
from .hashing import FrontierHash
from .httpclient import content_range_total, describe, looks_like_html, SocketBody
from .tuning import CHUNK, SYNC_EVERY, WRITE_SLICE


class SegmentsMixin(object):
    """The transfer, for Download: segment threads, ranges, reads, writes."""

    def frontier(self):
        """End of the gapless written prefix of the .part."""
        pos = 0
        with self.lock:
            for seg in sorted(self.segments, key=lambda x: x["start"]):
                if seg["start"] != pos:
                    break
                pos = seg["start"] + seg["done"]
                if seg["done"] < seg["end"] - seg["start"]:
                    break
        return pos

    def transfer(self, first):
        hasher = FrontierHash(self.part, self.frontier) if self.sha256 and self.size else None
        self.hashed = (None, 0)
        if self.bandwidth:
            self.bandwidth.refresh(force=True)
        try:
            self.transfer_segments(first)
        except BaseException:
            if hasher:
                hasher.finish()  # a stopped or restarted transfer's hash is not kept
            raise
        finally:
            if self.bandwidth:
                self.bandwidth.leave()  # no longer transferring: the others share the cap
        if hasher:
            self.hashed = hasher.finish()

    def transfer_segments(self, first):
        threads = []
        self.errors = []
        self.winding.clear()
        self.ended = threading.Semaphore(0)  # one release per segment thread that ended
        for i, seg in enumerate(self.segments):
            if self.size is not None and seg["done"] >= seg["end"] - seg["start"]:
                if first is not None and i == 0:
                    first[0].close()
                continue
            pre = first if i == 0 else None
            t = threading.Thread(target=self.segment_thread, args=(seg, pre), daemon=True)
            t.start()
            threads.append(t)
        if first is not None and not threads:
            first[0].close()
        last_save = last_sync = now()
        running = len(threads)
        wind_until = None
        while running:
            # Woken by a thread's end: the last one finishing is noticed at
            # once, not at the next tick.
            if self.ended.acquire(timeout=0.1):
                running -= 1
            if self.bandwidth:
                self.bandwidth.refresh()
            self.on_tick()
            if self.resumable() and self.checkpoint_due(last_save):
                synced = now() - last_sync >= SYNC_EVERY
                try:
                    with disk_errors(self.final):
                        self.save_sidecar(synced)
                except HelperError as e:
                    self.errors.append(e)  # stops the connections below
                last_save = now()
                if synced:
                    last_sync = last_save
            if self.errors and not self.stop.is_set():
                # After a connection's final failure (an expired link, a refusal) the
                # others finish the requests under way: the server has sent those
                # bytes, and cutting them would throw them away (transfer.ts too).
                if wind_until is None and all(winds_down(e) for e in self.errors):
                    self.winding.set()
                    wind_until = now() + WIND_DOWN_S
                if wind_until is None or now() >= wind_until:
                    self.stop.set()
            if self.stop.is_set():
                self.cut_connections()
        for t in threads:
            t.join()
        if self.errors:
            err = self.errors[0]
            for e in self.errors:
                if isinstance(e, RestartNeeded):
                    err = e
            if isinstance(err, RestartNeeded):
                self.stop.clear()
                raise err
            if self.stop_reason is None:
                raise err
        if self.stop_reason is not None:
            raise Stopped()
        if self.size is None:
            self.size = self.segments[0]["done"]

    def on_tick(self):
        pass  # replaced by the worker for progress and control checks

    def segment_thread(self, seg, first):
        try:
            self.pull_segment(seg, first)
        except BaseException as e:  # reported to the main loop, which stops the rest
            self.errors.append(e)
        finally:
            self.ended.release()

    def pull_segment(self, seg, first):
        failures = 0
        # Bytes this segment had at its last failure: a retry that moved it on
        # starts the count of failures afresh (kept here, not in the segment,
        # which is what the sidecar records).
        done_at_failure = seg["done"]
        # Two: one is read into while the other is written (BatchWriter).
        buffers = (bytearray(CHUNK), bytearray(CHUNK))
        while not self.stop.is_set():
            remaining = None if self.size is None else seg["end"] - seg["start"] - seg["done"]
            if (remaining is not None and remaining <= 0) or self.winding.is_set():
                return
            conn = None
            try:
                if first is not None:
                    conn, resp = first
                    first = None
                    upto = seg["end"]
                else:
                    conn, resp, upto = self.open_range(seg)
                with self.lock:
                    self.open_conns.add(conn)
                if self.stop.is_set():
                    return
                if self.size is None:
                    self.read_unsized(resp, seg)
                    return
                self.read_into(resp, seg, buffers, upto)
                at = seg["start"] + seg["done"]
                if upto <= at < seg["end"]:
                    failures = 0  # this request's span is in: the next one, at once
                    continue
                if seg["done"] < seg["end"] - seg["start"] and not self.stop.is_set():
                    raise HelperError(
                        "network", "The connection closed before the file was complete.", True
                    )
            except HelperError as e:
                if not e.retry:
                    raise
                if self.winding.is_set():
                    return  # what this request brought is written: no retry now
                if seg["done"] > done_at_failure:
                    failures = 0
                done_at_failure = seg["done"]
                failures += 1
                with self.lock:
                    self.attempts += 1
                if failures >= self.max_attempts:
                    raise
                if self.wait_before_retry(e, failures):
                    return
            finally:
                if conn is not None:
                    with self.lock:
                        self.open_conns.discard(conn)
                    conn.close()

    def cut_connections(self):
        """Unblocks segment threads waiting on a server that sends nothing (a
        pause or cancel must not wait for the stall timeout)."""
        # No lock: interrupt() runs in a signal handler, maybe while this thread holds it.
        for conn in list(self.open_conns):
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except (OSError, AttributeError):
                pass

    def open_range(self, seg):
        if self.size is None or not self.resumable():
            # No way to resume this server's copy: only a clean restart is honest.
            if self.downloaded() > 0 or self.size is None:
                raise RestartNeeded()
            conn, resp, _ = self.open_at_link(None)
            if resp.status != 200:
                conn.close()
                raise RestartNeeded()
            return conn, resp, seg["end"]
        a = seg["start"] + seg["done"]
        # A bounded span per request on several connections, as the engine asks
        # (transfer.ts requestSpan): a connection lost costs one span's request.
        b = min(seg["end"], a + self.span) - 1 if self.span else seg["end"] - 1
        headers = {"Range": "bytes=%d-%d" % (a, b), "If-Range": self.validator()}
        conn, resp, _ = self.open_at_link(headers)
        if resp.status != 206:
            conn.close()
            raise RestartNeeded()
        start, total = content_range_total(resp)
        etag = resp.getheader("ETag")
        if start != a or total != self.size or (self.etag and etag and etag != self.etag):
            conn.close()
            raise RestartNeeded()
        return conn, resp, b + 1

    def read_into(self, resp, seg, buffers, upto):
        """Reads a known-length body straight into our buffers, a batch per
        write: over TLS each read returns one 16 KiB record, so the reads fill
        a buffer back to back and the batch goes to disk (and progress) in one
        go, written by a thread of its own while the next batch is read. Bytes
        read before a failure are written before it is raised."""
        body = SocketBody(resp, self.http.timeout)
        checked = seg["done"] > 0 or seg["start"] > 0
        at = seg["start"] + seg["done"]  # where the next batch goes
        end = min(upto, seg["end"])
        writer = BatchWriter(self, seg, buffers)
        try:
            while not self.stop.is_set() and at < end:
                buf = writer.free_buffer()
                most = self.bandwidth.batch(CHUNK) if self.bandwidth else CHUNK
                n, err, eof = body.fill(memoryview(buf), min(most, end - at), self.stop)
                if n:
                    if not checked:
                        checked = True
                        if looks_like_html(buf[:n]):
                            raise self.http.html_error()
                    writer.write(buf, n, at)
                    at += n
                    if self.bandwidth:
                        self.bandwidth.take(n, self.stop)
                if err is not None:
                    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
                        raise disk_full(self.final)
                    raise HelperError(
                        "network", "The connection failed: %s." % describe(err), True
                    )
                if eof:
                    break
        finally:
            writer.close()

    def read_unsized(self, resp, seg):
        """No Content-Length (chunked): one stream, not resumable."""
        first = True
        try:
            while not self.stop.is_set():
                most = self.bandwidth.batch(CHUNK) if self.bandwidth else CHUNK
                data = resp.read1(most) if hasattr(resp, "read1") else resp.read(most)
                if not data:
                    return
                if first:
                    first = False
                    if looks_like_html(data):
                        raise self.http.html_error()
                self.write_at(data, seg["start"] + seg["done"])
                with self.lock:
                    seg["done"] += len(data)
                    self.fetched += len(data)
                if self.bandwidth:
                    self.bandwidth.take(len(data), self.stop)
        except (OSError, http.client.HTTPException) as e:
            raise HelperError("network", "The connection failed: %s." % describe(e), True)

    def write_at(self, data, offset):
        # In WRITE_SLICE pieces: the kernel's copy into the page cache then
        # reads from CPU cache (the engine's PartFile measured the same: 1-2 MiB
        # writes cost several times the system time of 64 KiB ones).
        view = memoryview(data)
        while len(view):
            try:
                n = os.pwrite(self.fd, view[:WRITE_SLICE], offset)
            except OSError as e:
                if e.errno == errno.ENOSPC:
                    raise disk_full(self.final)
                raise HelperError("unwritable", "Cannot write %s: %s." % (self.part, e.strerror))
            view = view[n:]
            offset += n


class BatchWriter(object):
    """Writes one request's batches, in order, in a thread of its own while the
    segment thread reads the next batch into the other buffer: on two cores the
    copy into the page cache (a quarter of the helper's CPU per byte) runs
    beside the TLS reads and decryption instead of between them. A segment's
    `done` moves only once its batch is written (the sidecar never claims an
    unwritten byte), and after a failed write no later batch is written."""

    def __init__(self, dl, seg, buffers):
        self.dl = dl
        self.seg = seg
        self.buffers = buffers
        self.next = 0
        self.queued = 0  # batches handed over whose outcome is not collected yet
        self.failed = False
        self.jobs = queue.Queue()
        self.outcomes = queue.Queue()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            job = self.jobs.get()
            if job is None:
                return
            if self.failed:
                self.outcomes.put(None)  # never a batch after a gap
                continue
            view, offset = job
            try:
                self.dl.write_at(view, offset)
                with self.dl.lock:
                    self.seg["done"] += len(view)
                    self.dl.fetched += len(view)
                self.outcomes.put(None)
            except BaseException as e:
                self.failed = True
                self.outcomes.put(e)

    def free_buffer(self):
        """The buffer to read the next batch into: the oldest, once written."""
        if self.queued == len(self.buffers):
            self.collect()
        buf = self.buffers[self.next]
        self.next = (self.next + 1) % len(self.buffers)
        return buf

    def write(self, buf, n, offset):
        self.jobs.put((memoryview(buf)[:n], offset))
        self.queued += 1

    def collect(self):
        err = self.outcomes.get()
        self.queued -= 1
        if err is not None:
            raise err

    def close(self):
        """Waits for every batch handed over, ends the thread, and raises the
        first write error."""
        first = None
        while self.queued:
            try:
                self.collect()
            except BaseException as e:
                first = first or e
        self.jobs.put(None)
        if first is not None:
            raise first


# How long the other connections may finish their requests after one failed for good.
WIND_DOWN_S = 3.0


def winds_down(e):
    """A failure after which the bytes already on their way are still wanted."""
    return isinstance(e, HelperError) and e.code in ("auth", "html", "http", "network")


def request_span(size, n):
    """Most bytes one request asks for: a quarter of a connection's share,
    1-32 MiB (the engine's requestSpan); None (the whole segment) on one."""
    if n <= 1 or size is None:
        return None
    return min(32 << 20, max(1 << 20, -(-size // n // 4)))


def split(size, n):
    if size is None:
        return [{"start": 0, "end": 0, "done": 0}]
    if n <= 1 or size < n:
        return [{"start": 0, "end": size, "done": 0}]
    step = size // n
    out = []
    for i in range(n):
        end = size if i == n - 1 else (i + 1) * step
        out.append({"start": i * step, "end": end, "done": 0})
    return out
