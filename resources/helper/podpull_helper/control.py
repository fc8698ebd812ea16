# `pause`, `cancel`, `remove`, `clear-completed`, `status`.
import os
import signal
import time

from .clock import now
from .errors import HelperError
from .owners import owner_alive
from .destination import check_stored_destination, listed_for
from .extrapaths import inventory_roots
from .protocol import need_job_id, status_for
from .status import ACTIVE, put_entry, TERMINAL


def stop_job(req, word):
    ws, status = status_for(req)
    job_id = need_job_id(req)
    key, e = status.find(job_id)
    st = e.get("status")
    if word == "cancel" and st == "completed":
        raise HelperError("bad-request", "That download already finished; remove it instead.")
    settled_pause = st == "paused" and not e.get("interrupted")
    if st == "cancelled" or (word == "pause" and (st in TERMINAL or settled_pause)):
        return {}
    owner = e.get("owner")
    if st in ACTIVE and owner_alive(owner):
        d = os.path.join(ws, ".podpull", "control")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, job_id), "w") as f:
            f.write(word)
        try:
            os.kill(owner["pid"], signal.SIGTERM)
        except OSError:
            pass
        deadline = now() + 10  # answer once the worker settled, so the app sees it
        while True:
            time.sleep(0.1)
            cur = status.read().get(key)
            if not isinstance(cur, dict) or cur.get("status") not in ACTIVE:
                return {}
            if not owner_alive(owner):
                break  # it died instead of settling: settle it here
            if now() > deadline:
                raise HelperError("internal", "The download did not stop within 10 seconds.")
    # Nobody runs it (paused, or its worker died): settle it here. Its partial
    # files go only where the stored path still leads inside the model folders.
    if word == "cancel" and stored_path_safe(key, req):
        for p in (key + ".part", key + ".part.json"):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    def fn(data):
        cur = data.get(key)
        if isinstance(cur, dict):
            cur = dict(cur)
            cur.update(
                status="cancelled" if word == "cancel" else "paused",
                owner=None,
                speed=0,
                eta=None,
                error=None,
                error_code=None,
                interrupted=False,  # the user's word: auto-resume leaves it alone
                resumable=word != "cancel" and os.path.exists(key + ".part.json"),
            )
            put_entry(data, key, cur)

    status.update(fn)
    return {}


def stored_path_safe(key, req):
    try:
        check_stored_destination(key, req.get("models_dir"), inventory_roots(req))
        return True
    except HelperError:
        return False


def cmd_remove(req):
    _, status = status_for(req)
    job_id = need_job_id(req)
    key, e = status.find(job_id)
    if e.get("status") in ACTIVE and owner_alive(e.get("owner")) is not False:
        raise HelperError("bad-request", "That download is still running; cancel it first.")

    def fn(data):
        data.pop(key, None)

    status.update(fn)
    return {}


def cmd_clear_completed(req):
    _, status = status_for(req)

    def fn(data):
        keys = [
            k for k, e in data.items() if isinstance(e, dict) and e.get("status") == "completed"
        ]
        for k in keys:
            del data[k]
        return len(keys)

    return {"removed": status.update(fn)}


def cmd_status(req):
    _, status = status_for(req)
    return {"status": listed_for(req, status.mark_stale())}
