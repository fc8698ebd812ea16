# `resume`: continue a paused or failed entry, with its sidecar's or a fresh link.
from .claims import claim, clear_control
from .clock import now
from .destination import check_stored_destination
from .errors import HelperError
from .extrapaths import inventory_roots
from .jsonfile import read_json
from .owners import owner_alive
from .protocol import need, need_job_id, status_for
from .status import ACTIVE, put_entry
from .tokens import source_of
from .urls import check_url, strip_secrets
from .jobentry import make_entry
from .worker import spawn_worker


def cmd_resume(req):
    ws, status = status_for(req)
    job_id = need_job_id(req)
    key, e = status.find(job_id)
    if e.get("status") in ACTIVE and owner_alive(e.get("owner")) is not False:
        return {"id": job_id, "outcome": "already-active", "path": key}
    if e.get("status") == "completed":
        return {"id": job_id, "outcome": "already-present", "path": key}
    folder = e.get("folder") or ""
    if req.get("url") is not None:
        check_url(need(req, "url"))
    try:
        check_stored_destination(key, req.get("models_dir"), inventory_roots(req))
    except HelperError as err:
        refuse_entry(status, key, err)
        raise
    r = {
        "url": resume_url(req, key, e),
        "sha256": e.get("sha256"),
        "connections": e.get("connections") or 1,
        "tokens": req.get("tokens") or {},
        "token_hosts": req.get("token_hosts") or {},
        "overwrite": bool(req.get("overwrite")),
    }
    for k in ("stall_timeout_s", "max_attempts", "retry_base_s", "max_wait_s", "signed_redirect"):
        if k in req:
            r[k] = req[k]
    entry = make_entry(r, job_id, key, folder, e.get("source") or source_of(r["url"]))
    entry.update(
        start_time=e.get("start_time") or now(),
        attempts=int(e.get("attempts") or 1) + 1,
        downloaded=e.get("downloaded") or 0,
        file_size=e.get("file_size"),
        rev=e.get("rev") or 0,
    )
    claimed = claim(status, key, entry)
    if claimed != job_id:
        return {"id": claimed, "outcome": "already-active", "path": key}
    clear_control(ws, job_id)
    spawn_worker(ws, status, r, job_id, key, entry)
    return {"id": job_id, "outcome": "started", "path": key}


def resume_url(req, key, e):
    """A fresh link when given; else the link as given, from the 0600 sidecar,
    when it is the entry's (the status file only has it without its secrets)."""
    if req.get("url"):
        return req["url"]
    sc = read_json(key + ".part.json")
    kept = sc.get("url") if isinstance(sc, dict) else None
    if isinstance(kept, str) and strip_secrets(kept) == e.get("url"):
        return kept
    return e.get("url") or kept


def refuse_entry(status, key, err):
    """The escaping entry becomes an error; nothing is written at its path."""

    def fn(data):
        cur = data.get(key)
        if isinstance(cur, dict):
            cur = dict(cur)
            cur.update(
                status="error", error=err.message, error_code=err.code, owner=None,
                speed=0, eta=None, resumable=False, interrupted=False,
            )
            put_entry(data, key, cur)

    status.update(fn)
