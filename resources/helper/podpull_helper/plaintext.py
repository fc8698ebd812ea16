# Text from elsewhere (a server's reason phrase, a hub's name, a planted status
# entry) is data, never terminal commands: ESC sequences can retitle a window or
# write the clipboard (OSC 52), bidi overrides make a name read as another. The
# status file keeps such text without them, as the app stores it.
# TypeScript: shared/plainText.ts (test/vectors/plaintext.json).
import re


# C0 (but tab and newline), DEL, C1, and the bidi embeddings, overrides,
# isolates and marks.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The same, tab and newline too: for one-line values (names, URLs, reasons).
CONTROLS_ONE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)

# Entry fields whose text may come from a server, a hub or a link.
ONE_LINE_FIELDS = ("url", "folder", "filename", "notice", "error_code")


def plain_text(s, one_line=False):
    return (CONTROLS_ONE_LINE if one_line else CONTROLS).sub("", s)


def plain_entry(fields):
    """A status entry's (or an update's) text fields without control characters."""
    out = dict(fields)
    for k, v in fields.items():
        if isinstance(v, str) and (k == "error" or k in ONE_LINE_FIELDS):
            out[k] = plain_text(v, one_line=k != "error")
    return out
