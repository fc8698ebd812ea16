# The command table and the entry point: one JSON request in, one JSON line out.
import json
import sys

from .bandwidth import cmd_set_limits
from .contenthash import cmd_index_content
from .control import cmd_clear_completed, cmd_remove, cmd_status, stop_job
from .errors import HelperError, RestartNeeded
from .keepone import cmd_keep_one
from .inventory import (
    cmd_extra_paths,
    cmd_inventory,
    cmd_model_delete,
    cmd_model_sha256,
    cmd_models,
)
from .probe import cmd_probe
from .protocol import emit
from .resume import cmd_resume
from .sourcerecord import cmd_sources
from .start import cmd_start
from .upload import cmd_push_begin, cmd_push_chunk, cmd_push_commit, cmd_push_fail
from .uploadkeep import cmd_push_keep
from .watch import cmd_log_tail, cmd_watch


COMMANDS = {
    "probe": cmd_probe,
    "start": cmd_start,
    "resume": cmd_resume,
    "pause": lambda r: stop_job(r, "pause"),
    "cancel": lambda r: stop_job(r, "cancel"),
    "remove": cmd_remove,
    "clear-completed": cmd_clear_completed,
    "status": cmd_status,
    "watch": cmd_watch,
    "models": cmd_models,
    "log-tail": cmd_log_tail,
    # installed models
    "inventory": cmd_inventory,
    "model-sha256": cmd_model_sha256,
    "model-delete": cmd_model_delete,
    "extra-paths": cmd_extra_paths,
    # a file pushed from the app
    "push-begin": cmd_push_begin,
    "push-keep": cmd_push_keep,
    "push-chunk": cmd_push_chunk,
    "push-commit": cmd_push_commit,
    "push-fail": cmd_push_fail,
    # the content index
    "index-content": cmd_index_content,
    "keep-one": cmd_keep_one,
    # the workspace's bandwidth cap and schedule
    "set-limits": cmd_set_limits,
    "sources": cmd_sources,
}


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
        req = json.loads(sys.stdin.read() or "{}")
        if not isinstance(req, dict):
            raise ValueError("not an object")
    except ValueError:
        emit({"ok": False, "code": "bad-request", "error": "The request is not a JSON object."})
        return 0
    try:
        answer = COMMANDS[argv[1]](req)
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
