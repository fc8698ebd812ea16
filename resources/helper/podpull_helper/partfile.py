# Opening a .part safely, for downloads and uploads alike.
import errno
import os

from .errors import HelperError


def open_part(path, flags):
    """O_NOFOLLOW: a symlink planted at the .part's name is refused, never written through."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW, 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise HelperError(
                "unsafe-path", "%s is a symbolic link; PodPull will not write through it." % path
            )
        raise
