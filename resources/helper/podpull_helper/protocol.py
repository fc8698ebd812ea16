# The request/answer plumbing every command shares.
# TypeScript: ssh/helperClient.ts (the caller).
import json
import os
import sys

from .errors import HelperError
from .status import StatusFile


def need(req, key, kind=str):
    v = req.get(key)
    if not isinstance(v, kind) or (kind is str and not v):
        raise HelperError("bad-request", 'The request needs "%s".' % key)
    return v


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
