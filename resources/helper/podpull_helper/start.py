# `start`: check the request, name the file, claim it, fork the worker.
import os
import re
import time

from .claims import active_at, claim, clear_control, new_id
from .destination import exists_message, resolve_destination, same_file, validate_folder
from .errors import HelperError
from .extrapaths import inventory_roots
from .httpclient import content_range_total, Http
from .signedlink import redirects_to_signed_link, SignedLink
from .names import filename_from, sanitize_filename
from .protocol import need, status_for
from .samecontent import link_same_content, linked_notice, shown
from .tokens import source_of
from .urls import check_url
from .jobentry import make_entry
from .worker import spawn_worker


def check_start_request(req):
    check_url(need(req, "url"))
    need(req, "models_dir")
    if not os.path.isabs(req["models_dir"]):
        raise HelperError("bad-request", "The models folder must be an absolute path.")
    validate_folder(req.get("folder"))
    sha = req.get("sha256")
    if sha and not re.match(r"^[0-9a-fA-F]{64}$", str(sha)):
        raise HelperError("bad-request", "The SHA-256 must be 64 hexadecimal characters.")
    c = req.get("connections", 1)
    if not isinstance(c, int) or isinstance(c, bool) or not 1 <= c <= 32:
        raise HelperError("bad-request", "Connections must be a whole number from 1 to 32.")
    for k in ("tokens", "token_hosts"):
        if req.get(k) is not None and not isinstance(req[k], dict):
            raise HelperError("bad-request", '"%s" must be an object.' % k)


def remote_name_and_size(req):
    """One GET whose body we don't read: the file name and size the server gives."""
    http_ = Http(
        req["url"],
        req.get("tokens"),
        req.get("token_hosts"),
        float(req.get("stall_timeout_s") or 30),
    )
    signed = req.get("signed_redirect")
    if signed is None:
        signed = redirects_to_signed_link(req["url"], req.get("token_hosts"))
    # A hub's resolve URL is asked without Range; the byte goes to its link.
    link = SignedLink(http_) if signed else None
    for attempt in range(3):  # `start` answers in seconds: a short retry budget
        try:
            url = link.current() if link else None
            conn, resp, final_url = http_.open({"Range": "bytes=0-0"}, url=url)
            break
        except HelperError as e:
            if not e.retry or attempt == 2:
                raise
            base = float(req.get("retry_base_s") or 1.0)
            wait = e.retry_after if e.retry_after is not None else base * 2**attempt
            time.sleep(min(wait, 5.0))
    try:
        size = None
        if resp.status == 206:
            size = content_range_total(resp)[1]
        elif resp.getheader("Content-Length") is not None:
            size = int(resp.getheader("Content-Length"))
        # A signed link's path is the CDN's (a hash): the name is the hub URL's.
        named_by = req["url"] if link else final_url
        name = filename_from(resp.getheader("Content-Disposition"), named_by)
        return name, size
    finally:
        conn.close()


def cmd_start(req):
    check_start_request(req)
    ws, status = status_for(req)
    folder = validate_folder(req["folder"])
    name, size, probed = None, None, False
    if req.get("filename"):
        name = sanitize_filename(str(req["filename"]))
    else:
        name, size = remote_name_and_size(req)
        probed = True
    final = resolve_destination(req["models_dir"], folder, name, req.get("folder_root"))
    active = active_at(status, final)
    if active:
        return {"id": active, "outcome": "already-active", "path": final}
    sha = (req.get("sha256") or "").lower() or None
    if os.path.lexists(final):
        if not sha and not probed:
            _, size = remote_name_and_size(req)
        if same_file(final, size, sha):
            return {"id": req.get("id") or new_id(), "outcome": "already-present", "path": final}
        if not req.get("overwrite"):
            raise HelperError("exists", exists_message(final))
    job_id = req.get("id") or new_id()
    if not re.match(r"^[0-9a-f]{16}$", job_id):
        raise HelperError("bad-request", "A job id is 16 lowercase hex characters.")
    entry = make_entry(req, job_id, final, folder, source_of(req["url"]))
    if sha and not os.path.lexists(final):
        linked = link_instead(req, ws, status, final, entry)
        if linked:
            return linked
    claimed = claim(status, final, entry)
    if claimed != job_id:
        return {"id": claimed, "outcome": "already-active", "path": final}
    clear_control(ws, job_id)
    spawn_worker(ws, status, req, job_id, final, entry)
    return {"id": job_id, "outcome": "started", "path": final}


def link_instead(req, ws, status, final, entry):
    """The content is on the pod under another name: link it, record it done, fetch nothing."""
    places = [req["models_dir"]] + [d for _, d in inventory_roots(req)]
    if req.get("folder_root"):
        places.append(req["folder_root"])
    got = link_same_content(ws, entry["sha256"], final, places)
    if got is None:
        return None
    src, by, size = got
    mb = round(size / 1048576.0, 1)
    entry.update(
        status="completed",
        progress=100,
        file_size=size,
        downloaded=size,
        file_size_mb=mb,
        downloaded_mb=mb,
        eta=0,
        eta_minutes=0,
        owner=None,
        notice=linked_notice(src, by, req["models_dir"]),
    )
    claimed = claim(status, final, entry)
    return {
        "id": claimed,
        "outcome": "linked" if claimed == entry["id"] else "already-active",
        "path": final,
        "linked_from": shown(src, req["models_dir"]),
        "linked_by": by,
    }
