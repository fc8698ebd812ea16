# `watch` (status changes as JSON lines) and `log-tail`.
import json
import os
import select
import sys
import time

from .bandwidth import limits_path, valid_limits
from .clock import now
from .contenthash import running_progress
from .jsonfile import read_json
from .destination import listed_for
from .protocol import emit, status_for


def cmd_watch(req):
    ws, status = status_for(req)
    listed_for(req, {})  # a malformed roots list is refused now, not mid-stream
    interval = max(0.05, min(1.0, float(req.get("interval") or 0.15)))
    last_sig, last_text, last_emit, last_beat = None, None, 0.0, now()
    last_hashing = "unset"
    # The workspace's bandwidth limits as set by any client (another machine's
    # CLI too): every watcher hears of a change.
    limits_file, last_limits_sig = limits_path(ws), "unset"
    pending = True
    # A pipe whose reader went away (the SSH channel closed) polls as POLLERR:
    # notice it within one interval instead of at the next write.
    poller = select.poll()
    poller.register(sys.stdout.fileno(), 0)
    try:
        while True:
            if any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0)):
                raise BrokenPipeError()
            try:
                st = os.stat(status.path)
                sig = (st.st_mtime_ns, st.st_size, st.st_ino)
            except OSError:
                sig = None
            if sig != last_sig:
                last_sig = sig
                pending = True
            t = now()
            if pending and t - last_emit >= 0.5:
                text = json.dumps(listed_for(req, status.mark_stale()), sort_keys=True)
                if text != last_text:
                    emit({"type": "status", "status": json.loads(text)})
                    last_text, last_emit = text, t
                pending = False
            hashing = json.dumps(running_progress(ws), sort_keys=True)
            if hashing != last_hashing:
                emit({"type": "hashing", "hashing": json.loads(hashing)})
                last_hashing = hashing
            try:
                st = os.stat(limits_file)
                limits_sig = (st.st_mtime_ns, st.st_size, st.st_ino)
            except OSError:
                limits_sig = None
            if limits_sig != last_limits_sig:
                last_limits_sig = limits_sig
                limits = valid_limits(read_json(limits_file)) if limits_sig else None
                emit({"type": "limits", "limits": limits})
            if t - last_beat >= 5:
                pending = True  # also settles entries whose worker died quietly
                emit({"type": "heartbeat", "t": t})
                last_beat = t
            time.sleep(interval)
    except (BrokenPipeError, KeyboardInterrupt):
        try:
            sys.stdout = None
        except Exception:
            pass
        os._exit(0)


def cmd_log_tail(req):
    # For `podpull diagnostics`: the end of the newest job logs (sentences the
    # worker composed, never tokens), newest first.
    ws, _ = status_for(req)
    log_dir = os.path.join(ws, ".podpull", "logs")
    max_bytes = max(1024, min(1 << 20, int(req.get("bytes") or 64 * 1024)))
    try:
        names = [n for n in os.listdir(log_dir) if n.endswith(".log")]
    except OSError:
        return {"logs": []}
    paths = sorted(
        (os.path.join(log_dir, n) for n in names), key=os.path.getmtime, reverse=True
    )
    out = []
    for path in paths[: max(1, min(50, int(req.get("files") or 10)))]:
        with open(path, "rb") as fh:
            fh.seek(max(0, os.path.getsize(path) - max_bytes))
            tail = fh.read().decode("utf-8", "replace")
        out.append({"id": os.path.basename(path)[:-4], "tail": tail})
    return {"logs": out}
