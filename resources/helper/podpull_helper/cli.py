# The command table and the entry point: one JSON request in, one JSON line out.
# Each command's module is imported only when that command runs: a helper
# process starts per call, and importing every module (the HTTP stack among
# them) cost more than most commands' work.
import importlib
import json
import os
import sys

from .errors import HelperError, RestartNeeded
from .protocol import emit

# command word -> (module, function[, first argument])
COMMANDS = {
    "probe": ("probe", "cmd_probe"),
    "start": ("start", "cmd_start"),
    "resume": ("resume", "cmd_resume"),
    "pause": ("control", "stop_job", "pause"),
    "cancel": ("control", "stop_job", "cancel"),
    "remove": ("control", "cmd_remove"),
    "clear-completed": ("control", "cmd_clear_completed"),
    "status": ("control", "cmd_status"),
    "watch": ("watch", "cmd_watch"),
    "models": ("inventory", "cmd_models"),
    "log-tail": ("watch", "cmd_log_tail"),
    # installed models
    "inventory": ("inventory", "cmd_inventory"),
    "model-sha256": ("inventory", "cmd_model_sha256"),
    "model-delete": ("inventory", "cmd_model_delete"),
    "extra-paths": ("inventory", "cmd_extra_paths"),
    # a file pushed from the app
    "push-begin": ("upload", "cmd_push_begin"),
    "push-keep": ("uploadkeep", "cmd_push_keep"),
    "push-chunk": ("upload", "cmd_push_chunk"),
    "push-commit": ("upload", "cmd_push_commit"),
    "push-fail": ("upload", "cmd_push_fail"),
    # the content index
    "index-content": ("contenthash", "cmd_index_content"),
    "keep-one": ("keepone", "cmd_keep_one"),
    # the workspace's bandwidth cap and schedule
    "set-limits": ("bandwidth", "cmd_set_limits"),
    "sources": ("sourcerecord", "cmd_sources"),
}


# Commands whose stdin stays open after the request line: they read more
# lines while they run, so the request is read up to its newline only.
OPEN_INPUT = ("push-keep",)


def read_line(fd):
    """One line from fd, read unbuffered so nothing after it is taken from the command."""
    out = bytearray()
    while True:
        b = os.read(fd, 1)
        if not b or b == b"\n":
            return out.decode("utf-8")
        out += b


def run_command(word, req):
    module, name = COMMANDS[word][:2]
    fn = getattr(importlib.import_module("." + module, __package__), name)
    return fn(req, *COMMANDS[word][2:])


def main(argv):
    if len(argv) != 2 or argv[1] not in COMMANDS:
        emit(
            {
                "ok": False,
                "code": "bad-request",
                "error": "Usage: podpull_helper.py <%s> with a JSON request on stdin."
                % "|".join(sorted(COMMANDS)),
            }
        )
        return 0
    try:
        raw = read_line(0) if argv[1] in OPEN_INPUT else sys.stdin.read()
        req = json.loads(raw or "{}")
        if not isinstance(req, dict):
            raise ValueError("not an object")
    except ValueError:
        emit({"ok": False, "code": "bad-request", "error": "The request is not a JSON object."})
        return 0
    try:
        answer = run_command(argv[1], req)
        out = {"ok": True}
        out.update(answer or {})
        emit(out)
    except HelperError as e:
        emit({"ok": False, "code": e.code, "error": e.message})
    except RestartNeeded:
        emit({"ok": False, "code": "http", "error": "The server refused the byte range."})
    except Exception as e:  # never a traceback with request data in it
        emit(
            {
                "ok": False,
                "code": "internal",
                "error": "The pod helper failed: %s." % e.__class__.__name__,
            }
        )
    return 0
