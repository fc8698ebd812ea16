# A job's first status entry (a download's; an upload's starts from it), kept
# apart from the worker so commands that only write an entry (push-begin)
# start without importing the download machinery.
# TypeScript: status/jobEntries.ts.
import os

from .clock import now
from .owners import my_owner
from .urls import strip_secrets


def make_entry(req, job_id, final, folder, source):
    t = now()
    return {
        "progress": 0,
        "status": "starting",
        "url": strip_secrets(req["url"]),
        "start_time": t,
        "timestamp": t,
        "file_size": None,
        "downloaded": 0,
        "speed": 0,
        "eta": None,
        "file_size_mb": 0,
        "downloaded_mb": 0,
        "speed_mb": 0,
        "eta_minutes": None,
        "error": None,
        "error_code": None,
        "notice": None,
        "id": job_id,
        "folder": folder,
        "filename": os.path.basename(final),
        "sha256": (req.get("sha256") or "").lower() or None,
        "source": source,
        "connections": max(1, min(32, int(req.get("connections") or 1))),
        "attempts": 1,
        "owner": my_owner(),
        "progress_time": t,
        "resumable": False,
        "rev": 0,
    }
