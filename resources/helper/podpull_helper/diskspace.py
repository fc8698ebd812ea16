# Free space, and disk-full errors turned into one clear sentence.
# TypeScript: checkFreeSpace in engine/download.ts.
import contextlib
import errno
import os

from .errors import HelperError


def free_bytes(path):
    while path and not os.path.exists(path):
        path = os.path.dirname(path)
    st = os.statvfs(path or "/")
    return st.f_bavail * st.f_frsize


def disk_full(final):
    return HelperError(
        "no-space",
        "The disk filled up while downloading %s: free some space, then try again."
        % os.path.basename(final),
    )


@contextlib.contextmanager
def disk_errors(final):
    """A full or read-only disk becomes a sentence, not a traceback."""
    try:
        yield
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise disk_full(final)
        raise HelperError("unwritable", "Cannot write next to %s: %s." % (final, e.strerror))
