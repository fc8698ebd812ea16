# Answers a well-behaved server never sends, refused instead of guessed at: a
# bare CR or LF inside a header (a value smuggling another header, later sent
# back from the sidecar), Content-Length headers that disagree or are no size
# (which one is the file's size?). http.client reads such heads leniently: it
# splits a value at a bare CR/LF and takes the first Content-Length, ignoring a
# negative one; the head is therefore checked line by line as it came.
# TypeScript: engine/rawHttp.ts (parseHead, MalformedAnswer).
import http.client
import re


HEADER_NAME = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class MalformedAnswer(Exception):
    def __init__(self, reason):
        Exception.__init__(self, "malformed response: " + reason)
        self.reason = reason


class _HeadRecorder(object):
    """The socket's file object while http.client reads a head: keeps each line."""

    def __init__(self, fp):
        self._fp = fp
        self.lines = []

    def readline(self, limit=-1):
        line = self._fp.readline(limit)
        self.lines.append(line)
        return line

    def __getattr__(self, name):
        return getattr(self._fp, name)


class StrictResponse(http.client.HTTPResponse):
    """http.client's response, whose head is refused when it could be read two ways."""

    def begin(self):
        fp = self.fp
        recorder = _HeadRecorder(fp)
        self.fp = recorder
        try:
            http.client.HTTPResponse.begin(self)
        finally:
            if self.fp is recorder:
                self.fp = fp
        check_head(last_head(recorder.lines))


def last_head(lines):
    """The header lines of the final head (a 100 Continue comes before it)."""
    head = []
    for line in lines:
        if line.startswith(b"HTTP/"):
            head = []
        elif line in (b"\r\n", b"\n", b""):
            continue
        else:
            head.append(line)
    return head


def check_head(lines):
    lengths = set()
    for line in lines:
        if not line.endswith(b"\r\n") or re.search(rb"[\r\n]", line[:-2]):
            raise MalformedAnswer("a header carries a bare CR or LF")
        name, colon, value = line[:-2].partition(b":")
        if not colon or not HEADER_NAME.match(name):
            raise MalformedAnswer("a header line is not name: value")
        if name.lower() == b"content-length":
            lengths.update(v.strip() for v in value.split(b","))
    if len(lengths) > 1:
        raise MalformedAnswer("Content-Length headers that disagree")
    if lengths and not re.match(rb"^\d+$", next(iter(lengths))):
        raise MalformedAnswer("a Content-Length that is not a size")


def clean_header_value(value):
    """A value read back from disk (a sidecar's validator) that cannot add a header of its own."""
    return value is None or (isinstance(value, str) and not re.search(r"[\r\n]", value))
