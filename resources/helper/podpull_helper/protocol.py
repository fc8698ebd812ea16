# The request/answer plumbing every command shares.
# TypeScript: ssh/helperClient.ts (the caller).
import json
import os
import re
import sys

from .errors import HelperError
from .status import StatusFile


def need(req, key, kind=str):
    v = req.get(key)
    if not isinstance(v, kind) or (kind is str and not v):
        raise HelperError("bad-request", 'The request needs "%s".' % key)
    return v


def need_job_id(req):
    """The id of a job to act on. It names control and log files, and an id read
    from a status file someone else can write must not name one elsewhere."""
    job_id = need(req, "id")
    if not re.match(r"^[0-9a-f]{16}$", job_id):
        raise HelperError("bad-request", "A job id is 16 lowercase hex characters.")
    return job_id


def status_for(req):
    ws = need(req, "workspace")
    if not os.path.isabs(ws):
        raise HelperError("bad-request", "The workspace must be an absolute path.")
    return ws, StatusFile(
        ws, req.get("retention_hours") or 24, req.get("stale_minutes") or 10
    )


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
