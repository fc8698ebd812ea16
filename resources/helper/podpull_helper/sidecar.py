# The .part file and its sidecar: open, checkpoint, trust or discard.
# TypeScript: engine/sidecar.ts, engine/partFile.ts.
import os

from .clock import now
from .httpclient import strong_validator
from .jsonfile import read_json, write_private_json
from .owners import boot_id
from .partfile import open_part  # noqa: F401 (download.py imports it from here)
from .segments import request_span
from .stricthead import clean_header_value


class SidecarMixin(object):
    """The .part and its sidecar, for Download: load, checkpoint, discard."""

    # -- sidecar

    def load_sidecar(self):
        sc = read_json(self.sidecar_path)
        if (
            not isinstance(sc, dict)
            or sc.get("version") != 1
            or sc.get("final_path") != self.final
            or not isinstance(sc.get("size"), int)
            or not strong_validator(sc.get("etag"), sc.get("last_modified"))
            # Sent back as If-Range: a value with CR/LF would add a header of its own.
            or not clean_header_value(sc.get("etag"))
            or not clean_header_value(sc.get("last_modified"))
            or not os.path.exists(self.part)
        ):
            return False
        segs = sc.get("segments") or []
        try:
            self.segments = [
                {"start": int(s["start"]), "end": int(s["end"]), "done": int(s["done"])}
                for s in segs
            ]
        except (KeyError, TypeError, ValueError):
            return False
        if not segments_cover(self.segments, sc["size"]):
            return False
        boot = sc.get("boot_id")
        if boot is not None and boot != boot_id():
            # Written without fdatasync during another boot: its claims can't be trusted.
            return False
        self.size = sc["size"]
        self.span = request_span(self.size, len(self.segments))
        self.recorded = sum(x["done"] for x in self.segments)
        self.etag = sc.get("etag")
        self.last_modified = sc.get("last_modified")
        self.created = sc.get("created") or now()
        self.accepts_ranges = True
        return True

    def save_sidecar(self, synced=True):
        """A synced checkpoint (fdatasync first, boot_id null) holds across a
        reboot; an unsynced one is cheap and holds for this boot only, which is
        all a kill -9 needs (the page cache survives the process)."""
        with self.lock:
            segs = [dict(s) for s in self.segments]
            self.recorded = sum(s["done"] for s in segs)
        if synced and self.fd is not None:
            os.fdatasync(self.fd)  # the sidecar never claims bytes not on disk
        write_private_json(
            self.sidecar_path,
            {
                "version": 1,
                "id": self.id,
                "url": self.url,  # as given: this 0600 file is where a resume finds it
                "final_path": self.final,
                "size": self.size,
                "etag": self.etag,
                "last_modified": self.last_modified,
                "sha256": self.sha256,
                "segments": segs,
                "created": self.created,
                "updated": now(),
                "boot_id": None if synced else boot_id(),
            },
            sync=synced,
        )

    def checkpoint_due(self, last_save):
        # Every second, or sooner once 0.5 % of the file is unrecorded: a kill -9
        # then costs at most that much of a re-fetch, however fast the link.
        unrecorded = self.downloaded() - self.recorded
        return now() - last_save >= 1.0 or unrecorded >= max(64 * 1024, self.size // 200)

    def try_save_sidecar(self):
        """On the way out (disk full, say) a sidecar we can't write is a lost
        resume point, not a reason to leave the entry unsettled."""
        try:
            self.save_sidecar()
        except OSError as e:
            self.log("could not save the sidecar: %s" % e.strerror)

    def discard_part(self):
        for p in (self.part, self.sidecar_path):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    def resumable(self):
        return bool(
            self.size is not None
            and self.accepts_ranges
            and strong_validator(self.etag, self.last_modified)
        )

    def downloaded(self):
        with self.lock:
            return sum(s["done"] for s in self.segments)


def segments_cover(segments, size):
    """Segments cover [0, size) in order, without gaps or overlaps, none overdone."""
    at = 0
    for seg in segments:
        length = seg["end"] - seg["start"]
        if seg["start"] != at or length < 0 or not 0 <= seg["done"] <= length:
            return False
        at = seg["end"]
    return bool(segments) and at == size
