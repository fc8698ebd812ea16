# File names: from Content-Disposition or the URL, made safe for any folder.
# TypeScript: fileNames.ts.
import re
import urllib.parse

from .errors import HelperError


def sanitize_filename(name):
    base = re.split(r"[/\\]", name)[-1]
    base = re.sub(r'[\x00-\x1f\x7f<>:"|?*]', "", base)
    base = re.sub(r"^[\s.]+", "", base).rstrip()
    while len(base.encode("utf-8")) > 255:
        dot = base.rfind(".")
        ext = base[dot:] if dot > 0 and len(base) - dot <= 16 else ""
        base = base[: max(1, len(base) - len(ext) - 1)] + ext
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
