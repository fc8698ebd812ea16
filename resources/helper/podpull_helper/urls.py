# What a link may be, and its form without secrets (shown, logged, stored).
# TypeScript: sources/urlSafety.ts.
import re
import urllib.parse

from .errors import HelperError


SECRET_PARAMS = set(
    "token key api_key apikey access_token auth sig signature x-amz-signature "
    "x-amz-credential x-amz-security-token x-goog-signature x-goog-credential".split()
)


def strip_secrets(url):
    """The URL to show, log and store: no credentials, no secret query values;
    every other query part byte for byte (a ?flag stays ?flag), like the app's
    stripSecrets. Requests always use the URL as given."""
    try:
        p = urllib.parse.urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/@]*@", "//", url)
    netloc = p.netloc.rsplit("@", 1)[-1]
    kept = [
        part
        for part in p.query.split("&")
        if part
        and urllib.parse.unquote_plus(part.split("=", 1)[0]).lower() not in SECRET_PARAMS
    ]
    return urllib.parse.urlunsplit((p.scheme, netloc, p.path, "&".join(kept), p.fragment))


def host_port(parts):
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return host, port


def check_url(url):
    p = urllib.parse.urlsplit(url)
    if p.scheme not in ("http", "https") or not p.hostname:
        raise HelperError("bad-request", "Only http:// and https:// links can be downloaded.")
    if re.search(r"[\x00-\x20\x7f]", url):
        raise HelperError("bad-request", "The link contains spaces or control characters.")
