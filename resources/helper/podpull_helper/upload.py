# A file pushed from the app to the pod: `push-begin`, `push-chunk`, `push-commit`
# (`push-keep`, the process that owns the entry while bytes flow, is uploadkeep.py).
# The bytes land in <final>.part beside a sidecar of the download's format
# (docs/formats.md, "kind": "upload"); the final name appears only by rename,
# after the whole .part's sha256 equals the one the app computed locally.
# TypeScript: targets/pod/podPush.ts.
import base64
import hashlib
import os
import re

from .claims import active_at, claim, clear_control, new_id
from .clock import now
from .destination import exists_message, resolve_destination, same_file, validate_folder
from .errors import HelperError
from .hashing import sha256_file
from .jobentry import make_entry
from .jsonfile import read_json, write_private_json
from .names import sanitize_filename
from .protocol import need, status_for
from .owners import my_owner
from .partfile import open_part
from .status import ACTIVE, put_entry

# A resume compares the .part with the local file block by block: at most
# this many blocks, each a whole number of 64 KiB and at least 256 KiB.
MAX_BLOCKS = 4096
MIN_BLOCK = 256 * 1024
# One PTY chunk: its base64 crosses the terminal in shell variables.
MAX_CHUNK = 1 << 20


def block_size(size):
    per = -(-size // MAX_BLOCKS)
    return max(MIN_BLOCK, -(-per // 65536) * 65536)


def block_hashes(path, upto, block):
    """The first 16 hex of the sha256 of each whole block of path below `upto`."""
    out = []
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return out
    try:
        pos = 0
        while pos + block <= upto:
            h = hashlib.sha256()
            left = block
            while left:
                data = os.pread(fd, min(left, 1 << 20), pos + block - left)
                if not data:
                    return out
                h.update(data)
                left -= len(data)
            out.append(h.hexdigest()[:16])
            pos += block
    finally:
        os.close(fd)
    return out


def check_sha256(value, required):
    if value is None and not required:
        return None
    if not re.match(r"^[0-9a-f]{64}$", str(value or "")):
        raise HelperError("bad-request", "The SHA-256 must be 64 lowercase hexadecimal characters.")
    return value


def check_push_request(req):
    need(req, "models_dir")
    if not os.path.isabs(req["models_dir"]):
        raise HelperError("bad-request", "The models folder must be an absolute path.")
    size = req.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise HelperError("bad-request", "The size must be a whole number of bytes.")
    # The app hashes while it sends: the sha256 comes with the commit, except
    # when a file of this size is already there (then it is asked for first).
    return size, check_sha256(req.get("sha256"), False)


def upload_entry(req, job_id, final, folder, size, sha):
    """A download's first entry, as an upload: paused until push-keep takes it
    (nobody holds it yet), its URL the local file's (no secret in it), so a
    resume after an app restart finds the file again on the machine that has it."""
    entry = make_entry(
        {"url": req.get("source_url") or "", "sha256": sha}, job_id, final, folder, "local"
    )
    entry.update(
        status="paused",
        kind="upload",
        source_host=req.get("source_host"),
        file_size=size,
        file_size_mb=round(size / 1048576.0, 1),
        owner=None,
        resumable=True,
        interrupted=False,
    )
    return entry


def upload_sidecar(final):
    sc = read_json(final + ".part.json")
    if isinstance(sc, dict) and sc.get("kind") == "upload" and sc.get("final_path") == final:
        return sc
    return None


def save_upload_sidecar(final, sc, done):
    sc = dict(sc)
    sc["segments"] = [{"start": 0, "end": sc["size"], "done": min(done, sc["size"])}]
    sc["updated"] = now()
    write_private_json(final + ".part.json", sc, sync=False)
    return sc


def cmd_push_begin(req):
    size, sha = check_push_request(req)
    ws, status = status_for(req)
    folder = validate_folder(req.get("folder"))
    name = sanitize_filename(str(need(req, "filename")))
    final = resolve_destination(req["models_dir"], folder, name, req.get("folder_root"))
    sc = upload_sidecar(final)
    # A .part of another file keeps nothing: the block hashes below prove
    # which prefix (if any) is this file's.
    same_part = (
        sc is not None
        and sc.get("size") == size
        and (sha is None or sc.get("sha256") in (None, sha))
        and os.path.isfile(final + ".part")
    )
    active = active_at(status, final)
    if active:
        return {"id": active, "outcome": "already-active", "path": final}
    if os.path.lexists(final):
        if sha is None and os.path.isfile(final) and os.path.getsize(final) == size:
            # Maybe this very file: only its sha256 can say.
            return {"id": "", "outcome": "compare", "path": final}
        if same_file(final, size, sha):
            return {"id": req.get("id") or new_id(), "outcome": "already-present", "path": final}
        if not req.get("overwrite"):
            raise HelperError("exists", exists_message(final))
    if same_part:
        job_id = sc["id"]
        part_size = os.path.getsize(final + ".part")
    else:
        job_id = new_id()
        fd = open_part(final + ".part", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.close(fd)
        part_size = 0
        sc = {
            "version": 1,
            "kind": "upload",
            "id": job_id,
            "url": None,
            "final_path": final,
            "size": size,
            "etag": None,
            "last_modified": None,
            "sha256": sha,
            "created": now(),
            "boot_id": None,
        }
    sc["overwrite"] = bool(req.get("overwrite"))
    sc["sha256"] = sha or sc.get("sha256")
    sc = save_upload_sidecar(final, sc, part_size)
    entry = upload_entry(req, job_id, final, folder, size, sha)
    entry["downloaded"] = min(part_size, size)
    if claim(status, final, entry) != job_id:
        return {"id": active_at(status, final), "outcome": "already-active", "path": final}
    clear_control(ws, job_id)
    block = block_size(size)
    return {
        "id": job_id,
        "outcome": "started",
        "path": final,
        "block": block,
        "blocks": block_hashes(final + ".part", min(part_size, size), block),
    }


def find_upload(req):
    ws, status = status_for(req)
    key, e = status.find(need(req, "id"))
    sc = upload_sidecar(key)
    if e.get("kind") != "upload" or sc is None or sc.get("id") != e.get("id"):
        raise HelperError("not-found", "No upload with id %s on this pod." % req["id"])
    return ws, status, key, e, sc


def cmd_push_chunk(req):
    """One chunk sent through the terminal: its sha256 checked, then written at
    `offset`, which must not leave a gap in the .part."""
    _, _, key, _, sc = find_upload(req)
    offset = req.get("offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise HelperError("bad-request", "The offset must be a whole number of bytes.")
    try:
        data = base64.b64decode(need(req, "data"), validate=True)
    except (ValueError, TypeError):
        raise HelperError("bad-request", "The chunk is not valid base64.")
    if len(data) > MAX_CHUNK or hashlib.sha256(data).hexdigest() != req.get("sha256"):
        raise HelperError("checksum", "A chunk arrived damaged; it will be sent again.")
    if offset + len(data) > sc["size"]:
        raise HelperError("bad-request", "The chunk goes past the end of the file.")
    fd = open_part(key + ".part", os.O_WRONLY)
    try:
        if offset > os.fstat(fd).st_size:
            raise HelperError("bad-request", "The chunk would leave a gap in the partial file.")
        view = memoryview(data)
        while view:
            n = os.pwrite(fd, view, offset)
            view = view[n:]
            offset += n
    finally:
        os.close(fd)
    save_upload_sidecar(key, sc, offset)
    return {"done": offset}


def cmd_push_commit(req):
    """Checks the whole .part against the sha256 and installs it by rename."""
    _, status, key, e, sc = find_upload(req)
    return commit_upload(status, key, e["id"], sc, req.get("sha256"), None)


def commit_upload(status, key, job_id, sc, sha, digest):
    """Installs the .part by rename once its sha256 is `sha` (the app's, else
    the sidecar's). `digest`: the .part's sha256 as push-keep hashed it while
    it grew; when missing or different, the .part is hashed again from disk."""
    part = key + ".part"
    size = sc["size"]
    sha = check_sha256(sha or sc.get("sha256"), True)
    try:
        have = os.path.getsize(part)
    except OSError:
        raise HelperError("not-found", "The partial upload %s is gone." % part)
    if have < size:
        raise HelperError(
            "bad-request", "The pod has %d of %d bytes; send the rest first." % (have, size)
        )
    settle(status, key, job_id, state="verifying", downloaded=size, sha256=sha)
    if have > size:
        os.truncate(part, size)
        digest = None
    if digest != sha and sha256_file(part) != sha:
        for p in (part, key + ".part.json"):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
        msg = "The pushed file did not match its SHA-256 on the pod; it was removed. Push it again."
        settle(
            status, key, job_id, state="error", error=msg, error_code="checksum", resumable=False
        )
        raise HelperError("checksum", msg)
    if os.path.lexists(key) and not sc.get("overwrite") and not same_file(key, size, sha):
        msg = exists_message(key)
        settle(status, key, job_id, state="error", error=msg, error_code="exists")
        raise HelperError("exists", msg)
    os.replace(part, key)
    try:
        os.unlink(key + ".part.json")
    except FileNotFoundError:
        pass
    settle(
        status, key, job_id, state="completed", progress=100, eta=0, eta_minutes=0, resumable=False
    )
    return {"path": key}


def settle(status, key, job_id, state, **fields):
    """Writes the entry's new state (no owner: whoever held it is done with it)."""

    def fn(data):
        cur = data.get(key)
        if not isinstance(cur, dict) or cur.get("id") != job_id:
            return
        cur = dict(cur)
        # Verifying is ours to finish: the keeper (if any) no longer writes.
        owner = my_owner() if state in ACTIVE else None
        cur.update(owner=owner, speed=0, speed_mb=0, error=None, error_code=None, interrupted=False)
        if "eta" not in fields:
            cur.update(eta=None, eta_minutes=None)
        cur.update(fields)
        cur["status"] = state
        done = cur.get("downloaded") or 0
        size = cur.get("file_size") or 0
        done_pct = done * 100 // size if size else 0
        cur["progress"] = 100 if cur["status"] == "completed" else done_pct
        cur["downloaded_mb"] = round(done / 1048576.0, 1)
        put_entry(data, key, cur)

    status.update(fn)


def cmd_push_fail(req):
    """The app could not go on (its local file changed or went away): the entry
    says why; the .part stays for a push of the same file."""
    _, status, key, e, _ = find_upload(req)
    if e.get("status") in ("completed", "cancelled"):
        return {}
    msg = re.sub(r"[\x00-\x1f\x7f]", " ", str(req.get("error") or "The push stopped."))[:500]
    settle(status, key, e["id"], state="error", error=msg, error_code="internal", resumable=True)
    return {}
