# `keep-one`: "keep one, link the others", undo-able until confirmed. Each
# other name is swapped (by a rename) for a hard link to the kept file, while
# its old content stays beside it as "<name>.podpull-undo-<op>": no name is
# ever without content. `undo` renames the old contents back; `confirm`
# deletes them, only where the name still holds the kept content (never the
# only copy). A journal per change: <ws>/.podpull/keep-one/<op>.json.
# TypeScript: models/keepOne.ts.
import json
import os
import re

from .contentindex import ContentIndex
from .errors import HelperError
from .inventory import cmd_inventory
from .jsonfile import atomic_write_json, read_json
from .protocol import need, status_for

UNDO_MARK = ".podpull-undo-"


def journal_dir(ws):
    return os.path.join(ws, ".podpull", "keep-one")


def pending(j):
    return {
        "op": j["op"],
        "sha256": j["sha256"],
        "kept": j["kept"],
        "linked": [x["path"] for x in j["linked"]],
        "reclaimable": j["size"] * len(j["linked"]),
    }


def inode(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def replace_with_link(keep, name):
    tmp = "%s.link-%s.part" % (name, os.urandom(4).hex())
    os.link(keep, tmp)
    try:
        os.rename(tmp, name)
    except OSError:
        os.unlink(tmp)
        raise


def link_others(ws, sha, keep, req):
    """The listed files with this content (a hard-linked pair counts once) but `keep`."""
    files = [m for m in cmd_inventory(req)["models"] if m.get("sha256") == sha]
    if len(files) < 2:
        raise HelperError("not-found", "No duplicated content with that sha256 on this pod.")
    keep = keep or files[0]["path"]
    if not any(m["path"] == keep for m in files):
        raise HelperError("not-found", "%s is not one of this pod's model files." % keep[:300])
    op = os.urandom(6).hex()
    others = [m["path"] for m in files if m["path"] != keep]
    j = {
        "op": op,
        "sha256": sha,
        "kept": keep,
        "size": files[0]["size"],
        "linked": [{"path": p, "stash": p + UNDO_MARK + op} for p in others],
    }
    os.makedirs(journal_dir(ws), exist_ok=True)
    # Written first: a crash half-way leaves a journal that undo or confirm can finish.
    atomic_write_json(os.path.join(journal_dir(ws), op + ".json"), j)
    for x in j["linked"]:
        os.link(x["path"], x["stash"])
        replace_with_link(keep, x["path"])
    record(ws, [x["path"] for x in j["linked"]], sha)
    return pending(j)


def record(ws, paths, sha):
    """These files (just linked, or put back) have this content."""
    idx = ContentIndex(ws)
    for p in paths:
        idx.put(p, os.stat(p), sha)
    idx.save()


def read_journal(ws, op):
    if not isinstance(op, str) or not re.match(r"^[0-9a-f]{12}$", op):
        raise HelperError("bad-request", "Not a keep-one change id.")
    j = read_json(os.path.join(journal_dir(ws), op + ".json"))
    if not isinstance(j, dict):
        raise HelperError("not-found", "No pending keep-one change with that id here.")
    return j


def beside_name(path, op):
    """a.safetensors -> a.before-keep-one-<op>.safetensors (the app's besideName)."""
    d, name = os.path.split(path)
    dot = name.rfind(".")
    stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    return os.path.join(d, "%s.before-keep-one-%s%s" % (stem, op, ext))


def settle(ws, op, undo):
    j = read_journal(ws, op)
    restored, reclaimed = [], 0
    kept = inode(j["kept"])
    for x in j["linked"]:
        if inode(x["stash"]) is None:
            continue  # the link step never got this far
        now = inode(x["path"])
        if undo or kept is None or now != kept:
            # Undone, or the name changed since: its old content goes back, never away;
            # beside the name when another file took it meanwhile.
            to = x["path"] if now is None or now == kept else beside_name(x["path"], op)
            os.rename(x["stash"], to)
            restored.append(to)
        else:
            os.unlink(x["stash"])
            reclaimed += j["size"]
    os.unlink(os.path.join(journal_dir(ws), op + ".json"))
    record(ws, restored, j["sha256"])  # the old contents are back, with their own stamps
    return {"restored": restored, "reclaimed": reclaimed}


def list_pending(ws):
    try:
        names = sorted(os.listdir(journal_dir(ws)))
    except OSError:
        return []
    out = []
    for n in names:
        if re.match(r"^[0-9a-f]{12}\.json$", n):
            try:
                out.append(pending(read_journal(ws, n[:-5])))
            except (HelperError, KeyError, TypeError, ValueError):
                continue
    return out


def cmd_keep_one(req):
    ws, _ = status_for(req)
    action = req.get("action")
    if action == "link":
        sha = str(need(req, "sha256")).lower()
        keep = req.get("keep")
        return link_others(ws, sha, keep if isinstance(keep, str) else None, req)
    if action in ("confirm", "undo"):
        return settle(ws, req.get("op"), action == "undo")
    if action == "pending":
        return {"pending": list_pending(ws)}
    raise HelperError(
        "bad-request", "action must be link, confirm, undo or pending, not %s." % json.dumps(action)
    )
