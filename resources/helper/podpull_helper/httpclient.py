# HTTP: requests, redirects followed by hand (Authorization stays on its host),
# error mapping, and the raw socket reader the segments use.
# TypeScript: engine/httpClient.ts, engine/remoteInfo.ts, engine/rawHttp.ts.
import http.client
import re
import socket
import ssl
import time
import urllib.parse

from . import HELPER_VERSION
from .errors import HelperError, RestartNeeded
from .stricthead import MalformedAnswer, StrictResponse
from .tokens import listed_token_host, TOKEN_HINTS, token_kind
from .tuning import BATCH_MAX_DELAY
from .urls import host_port, strip_secrets


MAX_REDIRECTS = 10


class SocketBody(object):
    """A response body read straight from its (TLS) socket into the caller's
    buffer. http.client's file object adds two Python layers and, with our
    stall check, a select() per 16 KiB TLS record; reading the socket itself
    with a short timeout (measured: 1 GiB over TLS in ~1.5 s against
    http.client's ~2.5 s) lets a quiet server end a batch without any extra
    system call while data flows."""

    def __init__(self, resp, stall_timeout):
        self.fp = resp.fp
        self.sock = getattr(getattr(self.fp, "raw", None), "_sock", None)
        self.stall_timeout = stall_timeout
        self.drained = self.sock is None

    def _drain(self, mv, limit):
        """Bytes http.client already buffered with the head; after them, the socket."""
        self.drained = True
        # What is buffered, or else one read (waiting up to stall_timeout).
        n = min(len(self.fp.peek()), limit)
        if n:
            mv[:n] = self.fp.read1(n)
        # From here on the socket is read directly, each wait at most a batch time.
        self.sock.settimeout(BATCH_MAX_DELAY)
        return n

    def fill(self, mv, limit, stop):
        """Reads up to `limit` bytes into mv, for at most BATCH_MAX_DELAY (what
        a kill -9 can lose); returns (bytes, error, end of body)."""
        if self.sock is None:
            return self._fill_file(mv, limit)
        n = 0
        if not self.drained:
            try:
                n = self._drain(mv, limit)
            except (OSError, http.client.HTTPException, ValueError) as e:
                return n, e, False
        until = time.monotonic() + BATCH_MAX_DELAY
        quiet_since = None
        recv_into = self.sock.recv_into
        # Over TLS each read returns one 16 KiB record: ~65,000 reads per GiB,
        # so the SSL object is read directly (SSLSocket.recv_into adds two
        # Python calls to each). No stop check per read either: a stop shuts
        # the socket down (cut_connections), and a batch ends within
        # BATCH_MAX_DELAY anyway.
        ssl_read = getattr(getattr(self.sock, "_sslobj", None), "read", None)
        while n < limit:
            try:
                if ssl_read is not None:
                    got = ssl_read(limit - n, mv[n:limit])
                else:
                    got = recv_into(mv[n:limit])
            except ssl.SSLEOFError:
                got = 0  # an end without close_notify is the end, as SSLSocket reads it
            except socket.timeout as e:
                if stop.is_set():
                    return n, None, False
                # A server that pauses must not hold bytes already read back
                # from the disk (and from progress): hand the batch over.
                if n:
                    return n, None, False
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= self.stall_timeout:
                    return n, e, False
                continue
            except (OSError, ValueError) as e:
                return n, e, False
            if not got:
                return n, None, True
            n += got
            if time.monotonic() >= until:
                break
        return n, None, False

    def _fill_file(self, mv, limit):
        """No socket to reach (not http.client's): the file object, one read at a time."""
        try:
            got = self.fp.readinto1(mv[:limit])
        except (OSError, http.client.HTTPException, ValueError, AttributeError) as e:
            return 0, e, False
        return got, None, not got


class Http(object):
    """Requests with manual redirects: Authorization goes only to the host the
    token was given for, never to a host a redirect leads to."""

    def __init__(self, url, tokens, token_hosts, timeout):
        self.url = url
        self.tokens = tokens or {}
        self.token_hosts = token_hosts or {}
        self.timeout = timeout
        self.kind = token_kind(url, token_hosts)
        self.origin = host_port(urllib.parse.urlsplit(url))
        self._tls = None

    def tls_context(self):
        """One context for every connection of the job: building one loads the
        CA store, ~25 ms a connection."""
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def hint(self):
        return TOKEN_HINTS.get(self.kind or "")

    def auth_for(self, url):
        parts = urllib.parse.urlsplit(url)
        if host_port(parts) != self.origin or not self.kind:
            return None
        # Plain http only to a host the user listed (PODPULL_*_HOSTS): a token
        # in clear text can be read by anyone on the path.
        if parts.scheme != "https" and not listed_token_host(parts, self.kind, self.token_hosts):
            return None
        token = self.tokens.get(self.kind)
        return "Bearer " + token if token else None

    def open(self, headers=None, url=None):
        """GET following redirects; returns (conn, response, final_url)."""
        url = url or self.url
        for _ in range(MAX_REDIRECTS + 1):
            conn, resp, host = self.ask(url, headers)
            if resp.status in (301, 302, 303, 307, 308):
                loc = resp.getheader("Location")
                conn.close()
                if not loc:
                    raise HelperError("http", "%s sent a redirect without a Location." % host)
                url = redirect_target(url, loc, host)
                if login_url(url):
                    raise self.html_error()
                continue
            self.check_status(resp, conn, host)
            return conn, resp, url
        raise HelperError("http", "Too many redirects for %s." % strip_secrets(self.url))

    def ask(self, url, headers):
        """One GET of `url`, no redirect followed: (conn, response, host)."""
        parts = urllib.parse.urlsplit(url)
        host, port = host_port(parts)
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(
                host, port, timeout=self.timeout, context=self.tls_context()
            )
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        conn.response_class = StrictResponse
        h = {"User-Agent": "PodPull-helper/" + HELPER_VERSION, "Accept-Encoding": "identity"}
        h.update(headers or {})
        auth = self.auth_for(url)
        if auth:
            h["Authorization"] = auth
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        # Named as the app names it (URL.host): with a port that is not the scheme's.
        shown = host if parts.port is None else "%s:%d" % (host, port)
        try:
            conn.request("GET", path, headers=h)
            return conn, conn.getresponse(), shown
        except MalformedAnswer as e:
            conn.close()
            raise HelperError(
                "http",
                "The server at %s sent a malformed answer (%s); PodPull will not guess what "
                "it meant." % (shown, e.reason),
            )
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise HelperError(
                "network", "Could not reach %s: %s." % (host, describe(e)), retry=True
            )

    def resolve(self):
        """The link a hub's resolve URL redirects to: one GET without Range, the
        body never read; redirects on the same host are followed (a renamed
        repo), the first one elsewhere is the link; a 2xx serves the file itself."""
        url = self.url
        for _ in range(MAX_REDIRECTS + 1):
            conn, resp, host = self.ask(url, {})
            loc = resp.getheader("Location")
            if resp.status in (301, 302, 303, 307, 308) and loc:
                conn.close()
                nxt = redirect_target(url, loc, host)
                if login_url(nxt):
                    raise self.html_error()
                if origin(nxt) != origin(url):
                    return nxt
                url = nxt  # same host (a renamed repo): ask again there
                continue
            if resp.status in (200, 206):
                conn.close()
                return url
            self.check_status(resp, conn, host)
        raise HelperError("http", "Too many redirects for %s." % strip_secrets(self.url))

    def check_status(self, resp, conn, host):
        s = resp.status
        if s in (200, 206):
            if is_html_type(resp.getheader("Content-Type")):
                conn.close()
                raise self.html_error()
            return
        retry_after = parse_retry_after(resp.getheader("Retry-After"))
        if retry_after is None:
            retry_after = parse_ratelimit(
                resp.getheader("RateLimit"), resp.getheader("RateLimit-Reset")
            )
        conn.close()
        if s in (401, 403):
            hint = self.hint() or (
                "The server refused the download (%d); the link may need a token or have "
                "expired." % s
            )
            raise HelperError("auth", "%s (HTTP %d from %s)" % (hint, s, host), status=s, host=host)
        if s == 416:
            raise RestartNeeded()
        if s == 429 or s >= 500:
            raise HelperError(
                "http",
                "%s answered %d %s." % (host, s, resp.reason),
                retry=True,
                retry_after=retry_after,
                status=s,
                host=host,
            )
        raise HelperError(
            "http", "%s answered %d %s for this URL." % (host, s, resp.reason), status=s, host=host
        )

    def html_error(self):
        fix = self.hint() or "check that the link points at the file itself, not a web page."
        return HelperError(
            "html", "The server sent a web page (a login page?) instead of the model file: " + fix
        )


def redirect_target(url, location, host):
    """Where a redirect leads: http(s) only (never file: or another scheme)."""
    nxt = urllib.parse.urljoin(url, location)
    if urllib.parse.urlsplit(nxt).scheme not in ("http", "https"):
        raise HelperError("http", "%s redirected to an unsupported address." % host)
    return nxt


def origin(url):
    p = urllib.parse.urlsplit(url)
    return (p.scheme,) + host_port(p)


def login_url(url):
    """Login walls announce themselves in the redirect target (Civitai:
    reason=download-auth); the same rule as the app's looksLikeLoginUrl."""
    p = urllib.parse.urlsplit(url)
    reason = urllib.parse.parse_qs(p.query, keep_blank_values=True).get("reason") or [None]
    return reason[0] == "download-auth" or re.search(r"/login/?$", p.path, re.I) is not None


def is_html_type(content_type):
    """text/html or application/xhtml+xml: the app's isHtmlType."""
    return re.match(r"\s*(text/html|application/xhtml\+xml)", content_type or "", re.I) is not None


def parse_retry_after(value):
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def parse_ratelimit(value, reset=None):
    """Seconds the IETF RateLimit header asks to wait: `"resolvers";r=0;t=2`
    (several policies comma-separated; the longest exhausted one counts), or
    the older RateLimit-Reset; the app's rateLimitWaitMs."""
    wait = None
    for item in (value or "").split(","):
        params = dict(
            p.split("=", 1) if "=" in p else (p, "")
            for p in (x.strip() for x in item.split(";")[1:])
        )
        r, t = params.get("r", "").strip(), params.get("t", "").strip()
        if r == "0" and t.isdigit():
            wait = max(wait or 0, int(t))
    if wait is None and reset and reset.strip().isdigit():
        wait = int(reset.strip())
    return None if wait is None else float(wait)


def describe(e):
    if isinstance(e, socket.timeout):
        return "no data for too long"
    return str(e) or e.__class__.__name__


def looks_like_html(first):
    """A body that starts like a web page (XHTML's <?xml prologue included), for
    servers that mislabel their login pages; the app's looksLikeHtml."""
    head = bytes(first[:256]).lstrip().lower()
    if head.startswith(b"<?xml"):
        return b"<html" in head or b"<!doctype html" in head
    return head.startswith(b"<!doctype") or head.startswith(b"<html")


def content_range_total(resp):
    m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", resp.getheader("Content-Range") or "")
    if not m:
        return None, None
    total = None if m.group(3) == "*" else int(m.group(3))
    return int(m.group(1)), total


def strong_validator(etag, last_modified):
    if etag and not etag.startswith("W/"):
        return etag
    return last_modified or None
