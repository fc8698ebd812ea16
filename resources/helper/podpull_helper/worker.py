# The detached worker: runs one Download, keeps its status entry, obeys control.
# TypeScript: targets/localJobQueue.ts, status/jobEntries.ts.
import os
import signal
import threading
import time

from .clock import now
from .contentindex import record_hash
from .detach import detach
from .download import Download
from .errors import HelperError, Stopped
from .owners import my_owner, owner_alive
from .plaintext import plain_text
from .sourcerecord import append_source_record
from .status import ACTIVE, put_entry


KEEPS_PART = ("auth", "html", "network", "http")


def format_bytes(n):
    """The app's formatBytes (src/shared/format.ts): decimal units, one decimal."""
    units = ("B", "KB", "MB", "GB", "TB")
    v, u = float(n), 0
    while v >= 1000 and u < len(units) - 1:
        v /= 1000
        u += 1
    return "%d B" % round(v) if u == 0 else "%.1f %s" % (v, units[u])


def kept_part_message(e, kept):
    """The error, naming how to go on from the kept .part (the app's keptPartError)."""
    if e.code not in KEEPS_PART:
        return e.message
    if e.code in ("auth", "html"):
        fix = "The link expired or needs a token: paste a fresh link to continue from %s."
    else:
        fix = "The partial download is kept: resume, or paste a fresh link, to continue from %s."
    return "%s %s" % (e.message, fix % format_bytes(kept))


class Worker(object):
    """The detached process that runs one download and reports it in the status file."""

    def __init__(self, ws, status, req, job_id, final, entry):
        self.ws = ws
        self.status = status
        self.entry = entry
        self.final = final
        self.id = job_id
        self.control = os.path.join(ws, ".podpull", "control", job_id)
        log_dir = os.path.join(ws, ".podpull", "logs")
        os.makedirs(log_dir, exist_ok=True)
        self.log_file = open(os.path.join(log_dir, job_id + ".log"), "a")
        self.dl = Download(req, job_id, final, status, self.log)
        self.dl.on_tick = self.tick
        self.dl.on_notice = self.notice_changed
        self.last_write = 0.0
        self.last_control = 0.0
        self.speed = 0.0
        self.sample = (now(), 0)

    def log(self, msg):
        # Only sentences we compose: never headers, tokens or request JSON (a
        # server's reason phrase in them, without its control characters).
        line = plain_text(msg, one_line=True)
        self.log_file.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), line))
        self.log_file.flush()

    def write(self, **fields):
        self.entry.update(fields)
        # A live worker writes it: whatever it ends as, no one has to resume it.
        self.entry["interrupted"] = False
        self.entry["owner"] = (
            None
            if self.entry["status"] not in ACTIVE
            else my_owner()
        )

        def fn(data):
            cur = data.get(self.final)
            if isinstance(cur, dict) and cur.get("id") not in (None, self.id):
                if cur.get("status") in ACTIVE and owner_alive(cur.get("owner")):
                    return  # someone else took this destination over: leave it alone
            put_entry(data, self.final, self.entry)
            self.entry["rev"] = data[self.final]["rev"]

        self.status.update(fn)
        self.last_write = now()

    def progress_fields(self):
        dl = self.dl
        done = dl.downloaded()
        t = now()
        t0, d0 = self.sample
        if t - t0 >= 0.5:
            inst = (done - d0) / (t - t0)
            self.speed = inst if self.speed == 0 else 0.3 * inst + 0.7 * self.speed
            self.sample = (t, done)
        size = dl.size
        eta = (size - done) / self.speed if size and self.speed > 0 else None
        f = {
            "file_size": size,
            "downloaded": done,
            "progress": int(done * 100 // size) if size else 0,
            "speed": round(self.speed, 1),
            "eta": round(eta, 1) if eta is not None else None,
            "file_size_mb": round((size or 0) / 1048576.0, 1),
            "downloaded_mb": round(done / 1048576.0, 1),
            "speed_mb": round(self.speed / 1048576.0, 1),
            "eta_minutes": round(eta / 60.0, 1) if eta is not None else None,
            "attempts": dl.attempts,
            "resumable": dl.resumable(),
            "notice": dl.notice,
        }
        # This worker's share of the workspace's bandwidth cap. Written only once
        # a cap has applied (then None when lifted), so an uncapped entry has the
        # same fields as the app engine's.
        share = dl.bandwidth.share if dl.bandwidth else None
        if share is not None or "bandwidth_cap" in self.entry:
            f["bandwidth_cap"] = share
        if done > self.entry.get("downloaded", 0):
            f["progress_time"] = t
        return f

    def notice_changed(self):
        # Segment threads wait in parallel: the main loop's tick writes their
        # notice; a wait before the transfer (the main thread's) is written now.
        if threading.current_thread() is threading.main_thread():
            self.write(notice=self.dl.notice)

    def tick(self):
        t = now()
        if self.dl.notice != self.entry.get("notice"):
            self.last_write = 0.0  # show a new wait (or its end) at once
        if t - self.last_control >= 0.5:
            self.last_control = t
            self.check_control()
        if t - self.last_write >= 1.0:
            self.write(status="downloading", **self.progress_fields())

    def record_source(self):
        # Only what `sets export` names the source by: a lost line exports the file as "local".
        try:
            append_source_record(
                self.ws, self.final, self.entry["url"], self.dl.size, self.dl.sha256
            )
        except OSError as e:
            self.log("source record not written: %s" % e.strerror)

    def check_control(self):
        try:
            with open(self.control) as f:
                word = f.read().strip()
        except OSError:
            return
        if word in ("pause", "cancel"):
            self.dl.stop_reason = word
            self.dl.interrupt(word)

    def on_signal(self, signum, _frame):
        self.check_control()
        self.dl.interrupt("pause")

    def catch_signals(self):
        # Before our pid is published: a pause must never meet the default SIGTERM.
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGUSR1, self.on_signal)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def run(self):
        dl = self.dl
        self.log("start %s -> %s" % (dl.safe_url, self.final))
        try:
            dl.run()
            self.write(status="verifying", **self.progress_fields())
            dl.verify_and_install()
            f = self.progress_fields()
            f.update(progress=100, speed=0, eta=0, speed_mb=0, eta_minutes=0, resumable=False)
            f["file_size"] = dl.size
            f["file_size_mb"] = round((dl.size or 0) / 1048576.0, 1)
            self.write(status="completed", error=None, error_code=None, **f)
            self.log("completed (%d bytes fetched)" % dl.fetched)
            if dl.sha256:  # checked against the file just now: the next start may link it
                record_hash(self.ws, self.final, dl.sha256)
            self.record_source()
        except Stopped:
            self.stopped()
        except HelperError as e:
            if dl.stop_reason is not None:
                return self.stopped()
            if e.pause:
                return self.stopped(e)
            # Only a failed checksum (or a .part nothing can resume) is discarded:
            # an expired link or a flaky network says nothing about the bytes we have.
            if e.code == "checksum" or not dl.resumable():
                dl.close_fd()
                dl.discard_part()
            else:
                if dl.fd is not None:
                    dl.try_save_sidecar()  # keep what we have: a resume picks it up
                dl.close_fd()
                e.message = kept_part_message(e, dl.downloaded())
            self.log("error (%s): %s" % (e.code, e.message))
            f = self.progress_fields()
            f.update(speed=0, eta=None, speed_mb=0, eta_minutes=None)
            f["resumable"] = os.path.exists(dl.sidecar_path)
            try:
                self.write(status="error", error=e.message, error_code=e.code, **f)
            except OSError:
                if e.code != "no-space":
                    raise
                # The disk is too full even for the status file: the user must hear
                # why, so the partial file goes (its bytes can be fetched again).
                dl.discard_part()
                f["resumable"] = False
                msg = e.message + " The partial download was removed to free space."
                self.write(status="error", error=msg, error_code=e.code, **f)
        except Exception as e:  # a bug: report it rather than leave a ghost entry
            self.log("internal error: %r" % (e,))
            dl.close_fd()
            self.write(
                status="error",
                error="The pod helper failed unexpectedly: %s." % e.__class__.__name__,
                error_code="internal",
                resumable=os.path.exists(dl.sidecar_path),
            )
        finally:
            try:
                os.unlink(self.control)
            except OSError:
                pass

    def stopped(self, why=None):
        """Paused or cancelled; `why`: the helper paused it itself (a wait past the cap)."""
        dl = self.dl
        f = self.progress_fields()
        f.update(speed=0, eta=None, speed_mb=0, eta_minutes=None, notice=None)
        if dl.stop_reason == "cancel":
            dl.close_fd()
            dl.discard_part()
            f["resumable"] = False
            self.log("cancelled")
            self.write(status="cancelled", error=None, error_code=None, **f)
        else:
            if dl.resumable() and dl.fd is not None:
                dl.try_save_sidecar()
            dl.close_fd()
            f["resumable"] = os.path.exists(dl.sidecar_path)
            self.log("paused at %d bytes%s" % (f["downloaded"], ": " + why.message if why else ""))
            if why is not None:
                f["resumable"] = True  # nothing is lost: resuming asks again
            self.write(
                status="paused",
                error=why.message if why else None,
                error_code=why.code if why else None,
                **f
            )


def spawn_worker(ws, status, req, job_id, final, entry):
    """Forks a fully detached worker (double fork + setsid, stdio on /dev/null)
    and returns once it has taken the status entry over. The request, tokens
    included, reaches it only through the fork's memory."""
    def run(ready):
        worker = Worker(ws, status, req, job_id, final, entry)
        worker.catch_signals()
        worker.write(status="starting")
        ready()
        worker.run()

    got = detach(run)
    if got != b"ok":
        raise HelperError("internal", "The download worker did not start.")
