# Claiming a destination in the status file for a new job, and its control file.
import os

from .owners import owner_alive
from .status import ACTIVE, put_entry


def new_id():
    return os.urandom(8).hex()


def active_at(status, final):
    e = status.mark_stale().get(final)
    live = isinstance(e, dict) and owner_alive(e.get("owner")) is not False
    if live and e.get("status") in ACTIVE:
        return e.get("id")
    return None


def claim(status, final, entry):
    """Writes our 'starting' entry unless a live job already has this destination."""

    def fn(data):
        cur = data.get(final)
        if (
            isinstance(cur, dict)
            and cur.get("status") in ACTIVE
            and cur.get("id") != entry["id"]
            and owner_alive(cur.get("owner")) is not False
            and not status.stale_reason(cur)
        ):
            return cur.get("id")
        put_entry(data, final, entry)
        entry["rev"] = data[final]["rev"]
        return entry["id"]

    return status.update(fn)


def clear_control(ws, job_id):
    d = os.path.join(ws, ".podpull", "control")
    os.makedirs(d, exist_ok=True)
    try:
        os.unlink(os.path.join(d, job_id))
    except FileNotFoundError:
        pass
