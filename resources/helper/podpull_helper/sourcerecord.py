# Where each file this workspace downloaded came from, one JSON line appended
# per finished download: <workspace>/.podpull/sources.jsonl (docs/formats.md
# "Source record"). TypeScript: models/sourceRecord.ts, which also parses the
# text `sources` sends.
import json
import os

from .clock import now
from .protocol import need

MAX_SOURCES_BYTES = 8 << 20


def source_record_path(ws):
    return os.path.join(ws, ".podpull", "sources.jsonl")


def append_source_record(ws, path, url, size, sha256):
    """One line, one write: concurrent workers finishing at once each keep theirs."""
    line = json.dumps(
        {"path": path, "url": url, "size": size, "sha256": sha256, "at": now()},
        separators=(",", ":"),
    )
    target = source_record_path(ws)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def cmd_sources(req):
    """The record as it is (its last 8 MiB: the newest lines win anyway)."""
    ws = need(req, "workspace")
    try:
        with open(source_record_path(ws), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - MAX_SOURCES_BYTES))
            data = f.read()
    except OSError:
        return {"text": ""}
    return {"text": data.decode("utf-8", "replace")}
