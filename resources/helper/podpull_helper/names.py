# File names: from Content-Disposition or the URL, made safe for any folder.
# TypeScript: fileNames.ts.
import re
import urllib.parse

from .errors import HelperError


# The longest name beside a file is its sidecar's temp file while it is replaced:
# <name>.part.json.tmp-<pid>-<8 hex> (pids run to 7 digits), within 255 bytes.
MAX_NAME_BYTES = 255 - len(".part.json.tmp-4194304-ffffffff")
MAX_EXT = 16
# Controls (C0, DEL, C1), what Windows refuses, and bidi controls (U+202E
# shows "x\u202egpj.exe" as "xexe.jpg"): the same set as plainText.ts.
UNSAFE_CHARS = re.compile(
    '[\x00-\x1f\x7f-\x9f<>:"|?*\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]'
)
# Device names Windows reserves whatever the extension (CON, aux.safetensors).
WINDOWS_RESERVED = re.compile(
    r"^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])(\.|$)", re.I
)


def fit_bytes(base):
    """Shortens a name to MAX_NAME_BYTES of UTF-8, keeping its extension."""
    if len(base.encode("utf-8")) <= MAX_NAME_BYTES:
        return base
    dot = base.rfind(".")
    ext = base[dot:] if dot > 0 and len(base) - dot <= MAX_EXT else ""
    stem = base[: len(base) - len(ext)]
    while len(stem) > 1 and len((stem + ext).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + ext


def sanitize_filename(name):
    """The helper's copy of fileNames.ts sanitizeFilename (test/vectors/filenames.json)."""
    base = re.split(r"[/\\]", name)[-1]
    base = UNSAFE_CHARS.sub("", base)
    base = re.sub(r"^[\s.]+", "", base)
    # Windows drops trailing dots and spaces: "x.safetensors." would be another name.
    base = re.sub(r"[\s.]+$", "", base)
    if WINDOWS_RESERVED.match(base):
        base = "_" + base
    base = fit_bytes(base)
    if not base or base in (".", ".."):
        raise HelperError(
            "unsafe-path",
            '"%s" is not a usable file name; choose one with the file name field (--filename).'
            % name[:80],
        )
    return base


def filename_from(disposition, url):
    if disposition:
        m = re.search(r"filename\*\s*=\s*([^;]+)", disposition, re.I)
        if m:
            value = m.group(1).strip().strip('"')
            charset, _, rest = value.partition("'")
            _, _, encoded = rest.partition("'")
            try:
                return sanitize_filename(
                    urllib.parse.unquote(encoded or value, encoding=charset or "utf-8")
                )
            except LookupError:
                pass
        m = re.search(r'filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]+)', disposition, re.I)
        if m:
            raw = m.group(2) if m.group(2) is not None else m.group(1).strip()
            return sanitize_filename(re.sub(r"\\(.)", r"\1", raw))
    path = urllib.parse.urlsplit(url).path
    last = [s for s in path.split("/") if s]
    return sanitize_filename(urllib.parse.unquote(last[-1] if last else ""))
