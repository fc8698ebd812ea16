# Before a download whose sha256 is known: when the pod already holds that
# content under another name or folder, the new name becomes a hard link to
# it (a copy across file systems) and nothing is fetched.
# TypeScript: targets/local/linkSameContent.ts, localTarget.ts (linkInstead).
import errno
import os
import shutil

from .contentindex import ContentIndex
from .destination import contained

_NO_LINK = (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK)


def shown(path, models_dir):
    """"loras/old.safetensors" for a file under models/, the full path elsewhere."""
    for d in (models_dir, os.path.realpath(models_dir)):
        if path.startswith(d.rstrip("/") + "/"):
            return path[len(d.rstrip("/")) + 1 :]
    return path


def hard_link_or_copy(src, dest):
    try:
        os.link(src, dest)
        return "hardlink"
    except OSError as e:
        if e.errno not in _NO_LINK:
            raise
    tmp = "%s.link-%s.part" % (dest, os.urandom(4).hex())
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return "copy"


def link_same_content(ws, sha256, dest, places):
    """Links `dest` to an indexed file with this content inside one of `places`
    (the model folders); returns (source, "hardlink"|"copy", size) or None."""
    idx = ContentIndex(ws)
    for src in idx.paths_with(sha256):
        if src == dest or not any(contained(src, d) for d in places):
            continue
        by = hard_link_or_copy(src, dest)
        st = os.stat(dest)
        idx.put(dest, st, sha256)
        try:
            idx.save()
        except OSError:
            pass
        return src, by, st.st_size
    return None


def linked_notice(src, by, models_dir):
    how = "linked" if by == "hardlink" else "copied (another file system)"
    return "Already had it as %s — %s" % (shown(src, models_dir), how)
