# JSON files written by atomic replace (temp + rename), and read leniently.
# TypeScript: status/statusFile.ts, engine/sidecar.ts (their atomic writes).
import json
import os
import stat


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


def open_regular(path):
    """A text file object for `path`, opened without blocking: None when it is
    not a regular file (a FIFO put in its place would hang a plain read).
    Raises FileNotFoundError when it is missing."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return open(fd, encoding="utf-8")


def read_json(path):
    try:
        f = open_regular(path)
        if f is None:
            return None
        with f:
            return json.load(f)
    except (OSError, ValueError):
        return None
