# A hub's resolve URL and the short-lived signed link it redirects to
# (Hugging Face /resolve/, Civitai /api/download/models/): asked without Range,
# its redirect not followed; ranges go only to the link, which is asked for
# again only when it is refused or has expired. In memory only (a secret).
# TypeScript: engine/signedLink.ts, sources/endpoints.ts (redirectsToSignedLink).
import calendar
import re
import threading
import time
import urllib.parse

from .tokens import token_kind

# Answers a fresh link may cure: expired, or signed for something else.
LINK_REFUSED = (400, 401, 403, 410)


def redirects_to_signed_link(url, token_hosts):
    """A hub's download URL (the hub's hosts, or hosts listed for its token)."""
    kind = token_kind(url, token_hosts)
    path = urllib.parse.urlsplit(url).path
    if kind == "hf":
        return re.search(r"/resolve/[^/]+/.", path) is not None
    if kind == "civitai":
        return re.search(r"/api/download/models/\d+/?$", path) is not None
    return False


def link_expiry(url):
    """When a signed URL stops working (epoch seconds), from its own query, if it says."""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    epoch = (q.get("Expires") or q.get("expires") or [None])[0]
    if epoch and re.match(r"^\d{9,11}$", epoch):
        return float(epoch)
    for p in ("X-Amz", "X-Goog"):
        date = (q.get(p + "-Date") or [None])[0]
        life = (q.get(p + "-Expires") or [None])[0]
        if date and life and life.isdigit() and re.match(r"^\d{8}T\d{6}Z$", date):
            return calendar.timegm(time.strptime(date, "%Y%m%dT%H%M%SZ")) + int(life)
    return None


class SignedLink(object):
    def __init__(self, http):
        self.http = http
        self.url = None
        self.expires = None
        self.resolves = 0
        self.lock = threading.Lock()  # one resolve however many connections need it

    def _fresh(self):
        return self.url is not None and (self.expires is None or time.time() < self.expires)

    def current(self):
        with self.lock:
            if not self._fresh():
                self._resolve()
            return self.url

    def refused(self, stale):
        """`stale` was refused: a new link, unless another connection already got one."""
        with self.lock:
            if not (self._fresh() and self.url != stale):
                self._resolve()
            return self.url

    def _resolve(self):
        self.url = None
        self.resolves += 1
        self.url = self.http.resolve()
        self.expires = link_expiry(self.url)
