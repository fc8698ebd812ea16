# JSON files written by atomic replace (temp + rename), and read leniently.
# TypeScript: status/statusFile.ts, engine/sidecar.ts (their atomic writes).
import json
import os


def atomic_write_json(path, obj, sync=True, private=False):
    """Writes obj as JSON to a temp file, then renames it into place. `private`:
    0600 from its creation (the sidecar holds the link as given, signature and all)."""
    tmp = "%s.tmp-%d-%s" % (path, os.getpid(), os.urandom(4).hex())
    try:
        if private:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            f = os.fdopen(os.open(tmp, flags, 0o600), "w")
        else:
            f = open(tmp, "w")
        with f:
            json.dump(obj, f, indent=1)
            f.flush()
            if sync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_private_json(path, obj, sync=True):
    atomic_write_json(path, obj, sync, private=True)


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
