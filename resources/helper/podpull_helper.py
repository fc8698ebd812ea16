#!/usr/bin/env python3
# PodPull pod helper: one stdlib-only file (Python >= 3.8, Linux) that runs on a
# GPU pod. Usage: python3 podpull_helper.py <command>, with ONE JSON request on
# stdin; it answers one JSON line on stdout. See docs/formats.md ("Helper
# protocol", "Status file", "Lock", "Partial files") for the formats it shares
# with the TypeScript engine: either engine can resume the other's .part.
#
# Nothing but the command word is ever taken from argv, and tokens live only in
# memory: they are never written to argv, the environment of a new program, a
# file, a log or the status file.
#
# Sections, each with its TypeScript counterpart (keep the two in step; one
# conformance table, test/conformance/, runs against both):
#   errors            HelperError / RestartNeeded  src/main/errors.ts, engine/types.ts,
#                                                  engine/segmentFetcher.ts (RestartNeeded)
#   small helpers     secrets, tokens, owners,     sources/urlSafety.ts, sources/tokens.ts,
#                     names, destinations, hash    status/entryAging.ts, sources/fileNames.ts,
#                                                  sources/destination.ts, engine/verify.ts
#   status file       StatusFile (lock, stale)     status/statusFile.ts, status/statusStore.ts,
#                                                  status/entryAging.ts
#   HTTP              Http (redirects, auth hop)   engine/httpClient.ts, engine/remoteInfo.ts
#   the download      Download (.part, segments)   engine/download.ts, engine/partPlan.ts,
#                                                  engine/sidecar.ts, engine/segmentFetcher.ts
#   the worker        Worker (entry per step)      targets/localJobQueue.ts, status/jobEntries.ts
#   commands          probe/start/…/watch          ssh/helperClient.ts (the caller),
#                                                  targets/podTarget.ts
HELPER_VERSION = "0.1.0"

import contextlib
import errno
import hashlib
import http.client
import json
import os
import random
import re
import select
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse

STATUS_NAME = ".download_status.json"
# The status lock (docs/formats.md "Lock"), as src/main/status/statusLock.ts.
LOCK_STALE = 10.0  # s: a lock older than this is stale, its holder died
LOCK_UPDATE = 2.0  # s: a holder touches its lock this often
LOCK_WAIT = 30.0  # s: how long a writer waits for a live holder
ACTIVE = ("queued", "starting", "downloading", "verifying")
RUNNING = ("starting", "downloading", "verifying")
TERMINAL = ("completed", "error", "cancelled")
SECRET_PARAMS = set(
    "token key api_key apikey access_token auth sig signature x-amz-signature "
    "x-amz-credential x-amz-security-token x-goog-signature x-goog-credential".split()
)
TOKEN_HOSTS = {
    "hf": ("huggingface.co", "www.huggingface.co", "hf.co"),
    "civitai": ("civitai.com", "www.civitai.com"),
}
TOKEN_HINTS = {
    "hf": "Hugging Face refused the download: the model is gated or private. Accept its "
    "license on huggingface.co, then set a Hugging Face token (HF_TOKEN, or Settings -> Tokens).",
    "civitai": "Civitai needs an API token for this download: set CIVITAI_API_TOKEN or add it "
    "in Settings -> Tokens.",
}
COMFY_CANDIDATES = ("/workspace/ComfyUI", "/workspace/runpod-slim/ComfyUI", "/opt/ComfyUI")
CHUNK = 1 << 20  # big reads: one syscall per MiB keeps up with curl on loopback
WRITE_SLICE = 64 << 10  # bytes per pwrite (see Download.write_at)
BATCH_MAX_DELAY = 0.025  # s a batch of reads may gather before it is written
SEGMENT_THRESHOLD = 16 << 20
SYNC_EVERY = 5.0  # seconds between fdatasynced checkpoints (reboot-proof)
MAX_REDIRECTS = 10
HOSTNAME = socket.gethostname()


class HelperError(Exception):
    """A failure the user can act on: one sentence plus a code from formats.md."""

    def __init__(self, code, message, retry=False, retry_after=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.retry = retry
        self.retry_after = retry_after


class RestartNeeded(Exception):
    """The server's copy changed (200 to a range, new validator): never splice."""


class Stopped(Exception):
    pass


# ---------------------------------------------------------------- small helpers


def now():
    return time.time()


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


def token_kind(url, token_hosts):
    parts = urllib.parse.urlsplit(url)
    host, port = host_port(parts)
    for kind in ("hf", "civitai"):
        extra = [str(h).lower() for h in (token_hosts or {}).get(kind) or []]
        if host in TOKEN_HOSTS[kind] or host in extra or "%s:%d" % (host, port) in extra:
            return kind
    return None


def listed_token_host(parts, kind, token_hosts):
    """True when the host is one the user listed for this token kind."""
    host, port = host_port(parts)
    extra = [str(h).lower() for h in (token_hosts or {}).get(kind) or []]
    return host in extra or "%s:%d" % (host, port) in extra


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie nobody reaped yet is dead too (some pod inits never reap)
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def pid_start(pid):
    """When `pid` started, in clock ticks after boot (/proc/<pid>/stat field 22),
    or None. A restarted container reuses pids (same boot id), not start times."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def my_owner():
    # "boot" and "start" (additions to formats.md's owner) tell a pid from before a
    # pod or container restart, which may since belong to some other process, from
    # a live one.
    pid = os.getpid()
    owner = {"host": HOSTNAME, "pid": pid, "engine": "helper", "boot": boot_id()}
    start = pid_start(pid)
    if start is not None:
        owner["start"] = start
    return owner


def owner_alive(owner):
    if not isinstance(owner, dict) or owner.get("host") != HOSTNAME:
        return None  # unknown: another machine (or nobody)
    boot = owner.get("boot")
    if boot is not None and boot != boot_id():
        return False
    pid = owner.get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        return False
    start = owner.get("start")
    now_start = pid_start(pid) if isinstance(start, int) else None
    return now_start is None or now_start == start


def atomic_write_json(path, obj, sync=True, private=False):
    """Writes obj as JSON to a temp file, then renames it into place. `private`:
    0600 from its creation (the sidecar holds the link as given, signature and all)."""
    tmp = "%s.tmp-%d-%s" % (path, os.getpid(), os.urandom(4).hex())
    try:
        if private:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            f = os.fdopen(os.open(tmp, flags, 0o600), "w")
        else:
            f = open(tmp, "w")
        with f:
            json.dump(obj, f, indent=1)
            f.flush()
            if sync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_private_json(path, obj, sync=True):
    atomic_write_json(path, obj, sync, private=True)


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


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


def validate_folder(folder):
    if not isinstance(folder, str) or not folder.strip():
        raise HelperError("bad-request", "Choose a models folder, e.g. checkpoints or loras.")
    parts = re.split(r"[/\\]", folder.strip().strip("/"))
    if folder.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise HelperError(
            "unsafe-path",
            'The folder "%s" leaves the models folder; use a plain sub-folder name.'
            % folder[:80],
        )
    if any(re.search(r"[\x00-\x1f\x7f]", p) for p in parts):
        raise HelperError("unsafe-path", "The folder name contains control characters.")
    return "/".join(parts)


def contained(path, root):
    root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip("/") + "/")


def resolve_destination(models_dir, folder, filename, folder_root=None):
    """<models_dir>/<folder>/<filename>, or <folder_root>/<rest of folder>/<filename>
    when the app chose a root from extra_model_paths.yaml for this folder; proven
    inside that root with realpath."""
    folder = validate_folder(folder)
    if not os.path.isdir(models_dir):
        raise HelperError("not-found", "The models folder %s does not exist." % models_dir)
    root, sub, where = models_dir, folder, "the models folder"
    if folder_root is not None:
        root, sub, where = extra_placement(folder_root, folder)
    directory = os.path.join(root, sub) if sub else root
    if not contained(directory, root):
        raise HelperError("unsafe-path", "The folder %s leaves %s." % (folder, where))
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise HelperError("unwritable", "Cannot create %s: %s." % (directory, e.strerror))
    if not contained(directory, root):  # a symlink swapped in meanwhile
        raise HelperError("unsafe-path", "The folder %s leaves %s." % (folder, where))
    final = os.path.join(os.path.realpath(directory), filename)
    if os.path.lexists(final) and not contained(final, root):
        raise HelperError("unsafe-path", "%s points outside %s." % (final, where))
    return final


def free_bytes(path):
    while path and not os.path.exists(path):
        path = os.path.dirname(path)
    st = os.statvfs(path or "/")
    return st.f_bavail * st.f_frsize


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
        while n < limit and not stop.is_set():
            try:
                got = recv_into(mv[n:limit])
            except socket.timeout as e:
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


def sha256_file(path, stop=None, h=None, pos=0):
    """Hex SHA-256 of the file; with `h`, continues a hash of its first `pos` bytes."""
    h = h or hashlib.sha256()
    buf = bytearray(CHUNK)
    mv = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        f.seek(pos)
        while True:
            if stop is not None and stop.is_set():
                raise Stopped()
            n = f.readinto(buf)
            if not n:
                break
            h.update(mv[:n])
    return h.hexdigest()


class FrontierHash(object):
    """Hashes the .part in file order while it downloads: a thread reads (from
    the page cache) the bytes below the lowest segment's frontier, which only
    moves forward within one transfer. hashlib and os.pread release the GIL,
    so it runs beside the connections, and the check after the download
    reads only what is left (nothing, on one connection)."""

    def __init__(self, path, frontier):
        self.path = path
        self.frontier = frontier
        self.h = hashlib.sha256()
        self.pos = 0
        self.ended = threading.Event()
        self.failed = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        buf = bytearray(CHUNK)
        mv = memoryview(buf)
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            self.failed = True
            return
        try:
            while True:
                end = self.frontier()
                if end - self.pos < CHUNK:
                    if self.ended.wait(0.02):
                        return  # the rest is hashed by whoever finishes
                    continue
                n = os.preadv(fd, [mv], self.pos)
                if n <= 0:
                    self.failed = True
                    return
                self.h.update(mv[:n])
                self.pos += n
        except OSError:
            self.failed = True
        finally:
            os.close(fd)

    def finish(self):
        """Stops the thread; returns (hash, bytes hashed), or (None, 0) when it failed."""
        self.ended.set()
        self.thread.join()
        return (None, 0) if self.failed else (self.h, self.pos)


# ---------------------------------------------------------------- status file


class StatusLock(object):
    """`<status>.lock`: a directory holding an `owner` file with a random nonce,
    refreshed (mtime) while held, released only by its owner; a lock older than
    LOCK_STALE s is taken over. The same protocol as src/main/status/statusLock.ts
    (docs/formats.md "Lock")."""

    def __init__(self, path):
        self.path = path
        self.nonce = os.urandom(12).hex()
        self.compromised = False
        self._stop = threading.Event()

    def _owner_nonce(self):
        try:
            with open(os.path.join(self.path, "owner")) as f:
                v = json.load(f)
            return v.get("nonce") if isinstance(v, dict) else None
        except (OSError, ValueError):
            return None

    def _try_create(self):
        try:
            os.mkdir(self.path)
        except FileExistsError:
            return False
        owner = {"nonce": self.nonce, "host": HOSTNAME, "pid": os.getpid(), "engine": "helper"}
        with open(os.path.join(self.path, "owner"), "x") as f:
            f.write(json.dumps(owner) + "\n")
        return True

    def _take_over(self, stale_ino):
        # Moved aside first: if what we moved is a fresh lock (made between our
        # stat and our rename), it goes back rather than being deleted.
        aside = "%s.stale-%s" % (self.path, self.nonce)
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        try:
            st = os.stat(aside)
            if st.st_ino != stale_ino and time.time() - st.st_mtime <= LOCK_STALE:
                os.rename(aside, self.path)
                return
        except OSError:
            return
        for name in os.listdir(aside):
            try:
                os.unlink(os.path.join(aside, name))
            except OSError:
                pass
        try:
            os.rmdir(aside)
        except OSError:
            pass

    def acquire(self):
        deadline = now() + LOCK_WAIT
        while not self._try_create():
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                continue
            if time.time() - st.st_mtime > LOCK_STALE:
                self._take_over(st.st_ino)
                continue
            if now() > deadline:
                raise HelperError(
                    "internal",
                    "The status file stays locked (%s); is another process stuck?" % self.path,
                )
            time.sleep(random.uniform(0.05, 0.1))
        t = threading.Thread(target=self._refresh, daemon=True)
        t.start()

    def _refresh(self):
        while not self._stop.wait(LOCK_UPDATE):
            if self._owner_nonce() != self.nonce:
                self.compromised = True
                return
            try:
                os.utime(self.path)
            except OSError:
                pass

    def release(self):
        self._stop.set()
        if self._owner_nonce() != self.nonce:
            return  # taken over as stale: theirs now
        try:
            os.unlink(os.path.join(self.path, "owner"))
            os.rmdir(self.path)
        except OSError:
            pass


class StatusFile(object):
    """The shared status file: mkdir lock (proper-lockfile protocol), atomic
    replace, read-modify-write of our own entries only, retention, staleness."""

    def __init__(self, workspace, retention_hours=24.0, stale_minutes=10.0):
        self.path = os.path.join(workspace, STATUS_NAME)
        self.lock_path = self.path + ".lock"
        self.retention = float(retention_hours) * 3600
        self.stale = float(stale_minutes) * 60

    def _read_unlocked(self):
        try:
            with open(self.path) as f:
                text = f.read()
        except FileNotFoundError:
            return {}
        if not text.strip():
            return {}
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return data
        except ValueError:
            try:
                os.replace(self.path, "%s.corrupt-%d" % (self.path, int(now())))
            except OSError:
                pass
            return {}

    def read(self):
        """A snapshot without the lock (writers replace atomically)."""
        try:
            with open(self.path) as f:
                data = json.load(f)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def update(self, fn):
        """Read-modify-write under the lock; fn mutates the dict, returns a result."""
        lock = StatusLock(self.lock_path)
        lock.acquire()
        try:
            data = self._read_unlocked()
            result = fn(data)
            self._prune(data)
            # No fsync under the lock (as in the TypeScript engine): a torn file
            # after a power cut is recovered like any corrupt one.
            atomic_write_json(self.path, data, sync=False)
            return result
        finally:
            lock.release()

    def _prune(self, data):
        cutoff = now() - self.retention
        for key in list(data):
            e = data[key]
            if (
                isinstance(e, dict)
                and e.get("status") in ("completed", "cancelled")
                and isinstance(e.get("timestamp"), (int, float))
                and e["timestamp"] < cutoff
            ):
                del data[key]

    def stale_reason(self, e):
        if not isinstance(e, dict) or e.get("status") not in RUNNING:
            return None
        if owner_alive(e.get("owner")) is False:
            return "the download process stopped"
        pt = e.get("progress_time") or e.get("timestamp")
        if isinstance(pt, (int, float)) and now() - pt > self.stale:
            return "the download made no progress for %d minutes" % (self.stale // 60)
        return None

    def mark_stale(self):
        """Marks stale entries paused or error (written back) and returns the file's object."""
        data = self.read()
        if not any(self.stale_reason(e) for e in data.values()):
            return data

        def fn(d):
            for path, e in d.items():
                reason = self.stale_reason(e)
                if not reason:
                    continue
                # A worker killed between two status writes may have saved a
                # sidecar the entry does not show yet: the .part can go on.
                if not e.get("resumable") and os.path.exists(path + ".part.json"):
                    e["resumable"] = True
                if e.get("resumable"):
                    e.update(status="paused", error=None, error_code=None)
                else:
                    e.update(status="error", error="The download stopped: %s." % reason)
                    e["error_code"] = "stale"
                # Its process went away (pod restart, kill): not the user's pause,
                # so the app resumes it (docs/formats.md "interrupted").
                e["interrupted"] = True
                e.update(owner=None, speed=0, eta=None, timestamp=now(), speed_mb=0)
                e["eta_minutes"] = None
                e["rev"] = int(e.get("rev") or 0) + 1
            return d

        return self.update(fn)

    def find(self, job_id):
        for key, e in self.mark_stale().items():
            if isinstance(e, dict) and e.get("id") == job_id:
                return key, e
        raise HelperError("not-found", "No download with id %s on this pod." % job_id)


def put_entry(data, key, entry):
    """Replaces one entry, keeping rev monotonic across writers."""
    old = data.get(key)
    old_rev = old.get("rev", 0) if isinstance(old, dict) else 0
    entry["rev"] = max(int(old_rev or 0), int(entry.get("rev") or 0)) + 1
    entry["timestamp"] = now()
    data[key] = dict(entry)


# ---------------------------------------------------------------- HTTP


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
            parts = urllib.parse.urlsplit(url)
            host, port = host_port(parts)
            if parts.scheme == "https":
                conn = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout, context=self.tls_context()
                )
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
            h = {"User-Agent": "PodPull-helper/" + HELPER_VERSION, "Accept-Encoding": "identity"}
            h.update(headers or {})
            auth = self.auth_for(url)
            if auth:
                h["Authorization"] = auth
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            try:
                conn.request("GET", path, headers=h)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                raise HelperError(
                    "network", "Could not reach %s: %s." % (host, describe(e)), retry=True
                )
            if resp.status in (301, 302, 303, 307, 308):
                loc = resp.getheader("Location")
                conn.close()
                if not loc:
                    raise HelperError("http", "%s sent a redirect without a Location." % host)
                url = urllib.parse.urljoin(url, loc)
                if login_url(url):
                    raise self.html_error()
                continue
            self.check_status(resp, conn, host)
            return conn, resp, url
        raise HelperError("http", "Too many redirects for %s." % strip_secrets(self.url))

    def check_status(self, resp, conn, host):
        s = resp.status
        if s in (200, 206):
            if is_html_type(resp.getheader("Content-Type")):
                conn.close()
                raise self.html_error()
            return
        retry_after = parse_retry_after(resp.getheader("Retry-After"))
        conn.close()
        if s in (401, 403):
            hint = self.hint() or (
                "The server refused the download (%d); the link may need a token or have "
                "expired." % s
            )
            raise HelperError("auth", "%s (HTTP %d from %s)" % (hint, s, host))
        if s == 416:
            raise RestartNeeded()
        if s == 429 or s >= 500:
            raise HelperError(
                "http",
                "%s answered %d %s." % (host, s, resp.reason),
                retry=True,
                retry_after=retry_after,
            )
        raise HelperError("http", "%s answered %d %s for this URL." % (host, s, resp.reason))

    def html_error(self):
        fix = self.hint() or "check that the link points at the file itself, not a web page."
        return HelperError(
            "html", "The server sent a web page (a login page?) instead of the model file: " + fix
        )


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


# ---------------------------------------------------------------- the download


class Download(object):
    """One job in the worker: segments in a pre-sized .part written with
    os.pwrite, a sidecar saved after fdatasync, retries, verify, install."""

    def __init__(self, req, job_id, final, status, log):
        self.req = req
        self.id = job_id
        self.final = final
        self.part = final + ".part"
        self.sidecar_path = final + ".part.json"
        self.status = status
        self.log = log
        self.url = req["url"]
        self.safe_url = strip_secrets(self.url)
        self.connections = max(1, min(32, int(req.get("connections") or 1)))
        self.sha256 = (req.get("sha256") or "").lower() or None
        self.overwrite = bool(req.get("overwrite"))
        self.stall = float(req.get("stall_timeout_s") or 60)
        self.max_attempts = int(req.get("max_attempts") or 8)
        self.retry_base = float(req.get("retry_base_s") or 1.0)
        self.http = Http(self.url, req.get("tokens"), req.get("token_hosts"), self.stall)
        self.stop = threading.Event()
        self.stop_reason = None
        self.open_conns = set()  # connections now reading: interrupt() unblocks them
        self.lock = threading.Lock()
        self.segments = []
        self.span = None  # bytes per request on several connections (request_span)
        self.size = None
        self.etag = None
        self.last_modified = None
        self.accepts_ranges = False
        self.fetched = 0
        self.attempts = 1
        self.errors = []
        self.fd = None
        self.created = now()
        self.recorded = 0  # bytes the sidecar on disk claims
        self.hashed = (None, 0)  # (hash, bytes) of the .part's start, from FrontierHash

    # -- sidecar

    def load_sidecar(self):
        sc = read_json(self.sidecar_path)
        if (
            not isinstance(sc, dict)
            or sc.get("version") != 1
            or sc.get("final_path") != self.final
            or not isinstance(sc.get("size"), int)
            or not strong_validator(sc.get("etag"), sc.get("last_modified"))
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

    # -- planning

    def validator(self):
        return strong_validator(self.etag, self.last_modified)

    def fresh(self):
        """A clean start. The first answer tells size and validators; on one
        connection it is a GET of the whole file, whose body is the download."""
        self.discard_part()
        conn, resp = self.first_answer()
        self.etag = resp.getheader("ETag")
        self.last_modified = resp.getheader("Last-Modified")
        if resp.status == 206:
            _, self.size = content_range_total(resp)
            self.accepts_ranges = self.size is not None
            conn.close()  # byte 0 only: every connection asks its own spans
            conn = None
        else:
            total = resp.getheader("Content-Length")
            self.size = int(total) if total is not None and resp.status == 200 else None
            self.accepts_ranges = (resp.getheader("Accept-Ranges") or "").lower() == "bytes"
        self.check_space(self.size or 0)
        self.fd = open_part(self.part, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
        n = 1
        if self.size is not None:
            os.ftruncate(self.fd, self.size)  # sparse: segments write at their offsets
            if self.resumable() and self.size >= SEGMENT_THRESHOLD:
                n = self.connections
        self.segments = split(self.size, n)
        self.span = request_span(self.size, n)
        if self.resumable():
            self.save_sidecar()
        return (conn, resp) if conn is not None else None

    def first_answer(self):
        """Several connections ask byte 0 only (as the engine does): a
        whole-file answer cut at the first segment's end would already have
        pushed a socket buffer's worth of bytes (megabytes) that the next
        segment fetches again."""
        if self.connections > 1:
            try:
                conn, resp, _ = self.http.open({"Range": "bytes=0-0"})
                if resp.status != 206 or content_range_total(resp)[1] is not None:
                    return conn, resp
                conn.close()  # no total size: one plain GET it is
            except RestartNeeded:
                pass  # 416: an empty file, which a plain GET serves
        conn, resp, _ = self.http.open()
        return conn, resp

    def check_space(self, need):
        have = free_bytes(os.path.dirname(self.final))
        if need > have:
            raise HelperError(
                "no-space",
                "Not enough disk space for %s: it needs %.1f MiB, %.1f MiB are free in %s."
                % (
                    os.path.basename(self.final),
                    need / 1048576.0,
                    have / 1048576.0,
                    os.path.dirname(self.final),
                ),
            )

    def run(self):
        """Moves all bytes in; raises HelperError / Stopped."""
        with disk_errors(self.final):
            self.run_attempts()

    def run_attempts(self):
        for _ in range(4):
            first = None
            if self.load_sidecar():
                self.log("resuming from %d of %d bytes" % (self.downloaded(), self.size))
                self.fd = open_part(self.part, os.O_RDWR)
                self.check_space(self.size - self.downloaded())
            else:
                first = self.retrying(self.fresh)
            try:
                self.transfer(first)
                return
            except RestartNeeded:
                self.log("the server's copy changed or ignored Range: restarting clean")
                self.close_fd()
                self.discard_part()
        raise HelperError("http", "The server keeps changing the file; try again later.")

    def retrying(self, fn):
        """Calls fn again after network errors / 5xx / 429, with backoff."""
        failures = 0
        while True:
            try:
                return fn()
            except HelperError as e:
                if not e.retry:
                    raise
                failures += 1
                self.attempts += 1
                if failures >= self.max_attempts:
                    raise
                if self.wait_before_retry(e, failures):
                    raise Stopped()

    def wait_before_retry(self, e, failures):
        """Backs off (Retry-After when the server said, else doubling from
        retry_base, capped at 30 s); True when asked to stop meanwhile."""
        delay = e.retry_after
        if delay is None:
            delay = min(30.0, self.retry_base * (2 ** (failures - 1)))
        self.log("retry in %.2fs: %s" % (delay, e.message))
        return self.stop.wait(min(delay, 60.0))

    def interrupt(self, reason):
        """Stops the transfer now: a read blocked on a stalled server would
        otherwise keep a pause waiting for the whole stall timeout."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stop.set()
        self.cut_connections()

    def close_fd(self):
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None

    def frontier(self):
        """End of the gapless written prefix of the .part."""
        pos = 0
        with self.lock:
            for seg in sorted(self.segments, key=lambda x: x["start"]):
                if seg["start"] != pos:
                    break
                pos = seg["start"] + seg["done"]
                if seg["done"] < seg["end"] - seg["start"]:
                    break
        return pos

    def transfer(self, first):
        hasher = FrontierHash(self.part, self.frontier) if self.sha256 and self.size else None
        self.hashed = (None, 0)
        try:
            self.transfer_segments(first)
        except BaseException:
            if hasher:
                hasher.finish()  # a stopped or restarted transfer's hash is not kept
            raise
        if hasher:
            self.hashed = hasher.finish()

    def transfer_segments(self, first):
        threads = []
        self.errors = []
        self.ended = threading.Semaphore(0)  # one release per segment thread that ended
        for i, seg in enumerate(self.segments):
            if self.size is not None and seg["done"] >= seg["end"] - seg["start"]:
                if first is not None and i == 0:
                    first[0].close()
                continue
            pre = first if i == 0 else None
            t = threading.Thread(target=self.segment_thread, args=(seg, pre), daemon=True)
            t.start()
            threads.append(t)
        if first is not None and not threads:
            first[0].close()
        last_save = last_sync = now()
        running = len(threads)
        while running:
            # Woken by a thread's end: the last one finishing is noticed at
            # once, not at the next tick.
            if self.ended.acquire(timeout=0.1):
                running -= 1
            self.on_tick()
            if self.resumable() and self.checkpoint_due(last_save):
                synced = now() - last_sync >= SYNC_EVERY
                try:
                    with disk_errors(self.final):
                        self.save_sidecar(synced)
                except HelperError as e:
                    self.errors.append(e)  # stops the connections below
                last_save = now()
                if synced:
                    last_sync = last_save
            if self.errors:
                self.stop.set()
            if self.stop.is_set():
                self.cut_connections()
        for t in threads:
            t.join()
        if self.errors:
            err = self.errors[0]
            for e in self.errors:
                if isinstance(e, RestartNeeded):
                    err = e
            if isinstance(err, RestartNeeded):
                self.stop.clear()
                raise err
            if self.stop_reason is None:
                raise err
        if self.stop_reason is not None:
            raise Stopped()
        if self.size is None:
            self.size = self.segments[0]["done"]

    def on_tick(self):
        pass  # replaced by the worker for progress and control checks

    def segment_thread(self, seg, first):
        try:
            self.pull_segment(seg, first)
        except BaseException as e:  # reported to the main loop, which stops the rest
            self.errors.append(e)
        finally:
            self.ended.release()

    def pull_segment(self, seg, first):
        failures = 0
        buf = bytearray(CHUNK)
        mv = memoryview(buf)
        while not self.stop.is_set():
            remaining = None if self.size is None else seg["end"] - seg["start"] - seg["done"]
            if remaining is not None and remaining <= 0:
                return
            conn = None
            progressed = False
            try:
                if first is not None:
                    conn, resp = first
                    first = None
                    upto = seg["end"]
                else:
                    conn, resp, upto = self.open_range(seg)
                with self.lock:
                    self.open_conns.add(conn)
                if self.stop.is_set():
                    return
                if self.size is None:
                    self.read_unsized(resp, seg)
                    return
                progressed = self.read_into(resp, seg, mv, buf, upto)
                at = seg["start"] + seg["done"]
                if upto <= at < seg["end"]:
                    failures = 0  # this request's span is in: the next one, at once
                    continue
                if seg["done"] < seg["end"] - seg["start"] and not self.stop.is_set():
                    raise HelperError(
                        "network", "The connection closed before the file was complete.", True
                    )
            except HelperError as e:
                if not e.retry:
                    raise
                if progressed or seg.get("_progress_seen"):
                    failures = 0
                    seg.pop("_progress_seen", None)
                failures += 1
                with self.lock:
                    self.attempts += 1
                if failures >= self.max_attempts:
                    raise
                if self.wait_before_retry(e, failures):
                    return
            finally:
                if conn is not None:
                    with self.lock:
                        self.open_conns.discard(conn)
                    conn.close()

    def cut_connections(self):
        """Unblocks segment threads waiting on a server that sends nothing (a
        pause or cancel must not wait for the stall timeout)."""
        # No lock: interrupt() runs in a signal handler, maybe while this thread holds it.
        for conn in list(self.open_conns):
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except (OSError, AttributeError):
                pass

    def open_range(self, seg):
        if self.size is None or not self.resumable():
            # No way to resume this server's copy: only a clean restart is honest.
            if self.downloaded() > 0 or self.size is None:
                raise RestartNeeded()
            conn, resp, _ = self.http.open()
            if resp.status != 200:
                conn.close()
                raise RestartNeeded()
            return conn, resp, seg["end"]
        a = seg["start"] + seg["done"]
        # A bounded span per request on several connections, as the engine asks
        # (transfer.ts requestSpan): a connection lost costs one span's request.
        b = min(seg["end"], a + self.span) - 1 if self.span else seg["end"] - 1
        headers = {"Range": "bytes=%d-%d" % (a, b), "If-Range": self.validator()}
        conn, resp, _ = self.http.open(headers)
        if resp.status != 206:
            conn.close()
            raise RestartNeeded()
        start, total = content_range_total(resp)
        etag = resp.getheader("ETag")
        if start != a or total != self.size or (self.etag and etag and etag != self.etag):
            conn.close()
            raise RestartNeeded()
        return conn, resp, b + 1

    def read_into(self, resp, seg, mv, buf, upto):
        """Reads a known-length body straight into our buffer, a batch per
        pwrite: over TLS each read returns one 16 KiB record, so the reads fill
        the buffer back to back and the batch goes to disk (and progress) in one
        write. Bytes read before a failure are written before it is raised."""
        body = SocketBody(resp, self.http.timeout)
        progressed = False
        checked = seg["done"] > 0 or seg["start"] > 0
        while not self.stop.is_set():
            want = min(upto, seg["end"]) - seg["start"] - seg["done"]
            if want <= 0:
                break
            n, err, eof = body.fill(mv, min(CHUNK, want), self.stop)
            if n:
                if not checked:
                    checked = True
                    if looks_like_html(buf[:n]):
                        raise self.http.html_error()
                self.write_at(mv[:n], seg["start"] + seg["done"])
                with self.lock:
                    seg["done"] += n
                    self.fetched += n
                progressed = True
                seg["_progress_seen"] = True
            if err is not None:
                if isinstance(err, OSError) and err.errno == errno.ENOSPC:
                    raise disk_full(self.final)
                raise HelperError("network", "The connection failed: %s." % describe(err), True)
            if eof:
                break
        return progressed

    def read_unsized(self, resp, seg):
        """No Content-Length (chunked): one stream, not resumable."""
        first = True
        try:
            while not self.stop.is_set():
                data = resp.read1(CHUNK) if hasattr(resp, "read1") else resp.read(CHUNK)
                if not data:
                    return
                if first:
                    first = False
                    if looks_like_html(data):
                        raise self.http.html_error()
                self.write_at(data, seg["start"] + seg["done"])
                with self.lock:
                    seg["done"] += len(data)
                    self.fetched += len(data)
        except (OSError, http.client.HTTPException) as e:
            raise HelperError("network", "The connection failed: %s." % describe(e), True)

    def write_at(self, data, offset):
        # In WRITE_SLICE pieces: the kernel's copy into the page cache then
        # reads from CPU cache (the engine's PartFile measured the same: 1-2 MiB
        # writes cost several times the system time of 64 KiB ones).
        view = memoryview(data)
        while len(view):
            try:
                n = os.pwrite(self.fd, view[:WRITE_SLICE], offset)
            except OSError as e:
                if e.errno == errno.ENOSPC:
                    raise disk_full(self.final)
                raise HelperError("unwritable", "Cannot write %s: %s." % (self.part, e.strerror))
            view = view[n:]
            offset += n

    # -- finish

    def verify_and_install(self):
        with disk_errors(self.final):
            self.install()

    def install(self):
        self.close_fd()
        actual = os.path.getsize(self.part)
        if self.size is not None and actual != self.size:
            self.discard_part()
            raise HelperError(
                "checksum", "The file is %d bytes, the server said %d." % (actual, self.size)
            )
        if self.sha256:
            h, pos = self.hashed
            got = sha256_file(self.part, self.stop, h, pos if h else 0)
            if got != self.sha256:
                self.discard_part()
                raise HelperError(
                    "checksum",
                    "The file's SHA-256 is %s, not the expected %s: the download was removed."
                    % (got, self.sha256),
                )
        if os.path.lexists(self.final) and not self.overwrite:
            if not same_file(self.final, self.size, self.sha256):
                raise HelperError("exists", exists_message(self.final))
        os.rename(self.part, self.final)
        try:
            os.unlink(self.sidecar_path)
        except FileNotFoundError:
            pass


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


def segments_cover(segments, size):
    """Segments cover [0, size) in order, without gaps or overlaps, none overdone."""
    at = 0
    for seg in segments:
        length = seg["end"] - seg["start"]
        if seg["start"] != at or length < 0 or not 0 <= seg["done"] <= length:
            return False
        at = seg["end"]
    return bool(segments) and at == size


_boot = []


def boot_id():
    if not _boot:
        try:
            with open("/proc/sys/kernel/random/boot_id") as f:
                _boot.append(f.read().strip() or None)
        except OSError:
            _boot.append(None)
    return _boot[0]


KEEPS_PART = ("auth", "html", "network", "http")


def format_bytes(n):
    """The app's formatBytes (src/shared/format.ts): decimal units, one decimal."""
    units = ("B", "KB", "MB", "GB", "TB")
    v, u = float(n), 0
    while v >= 1000 and u < len(units) - 1:
        v /= 1000
        u += 1
    return "%d B" % round(v) if u == 0 else "%.1f %s" % (v, units[u])


def kept_part_message(e, kept):
    """The error, naming how to go on from the kept .part (the app's keptPartError)."""
    if e.code not in KEEPS_PART:
        return e.message
    if e.code in ("auth", "html"):
        fix = "The link expired or needs a token: paste a fresh link to continue from %s."
    else:
        fix = "The partial download is kept: resume, or paste a fresh link, to continue from %s."
    return "%s %s" % (e.message, fix % format_bytes(kept))


def disk_full(final):
    return HelperError(
        "no-space",
        "The disk filled up while downloading %s: free some space, then try again."
        % os.path.basename(final),
    )


@contextlib.contextmanager
def disk_errors(final):
    """A full or read-only disk becomes a sentence, not a traceback."""
    try:
        yield
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise disk_full(final)
        raise HelperError("unwritable", "Cannot write next to %s: %s." % (final, e.strerror))


def request_span(size, n):
    """Most bytes one request asks for: a quarter of a connection's share,
    1-32 MiB (the engine's requestSpan); None (the whole segment) on one."""
    if n <= 1 or size is None:
        return None
    return min(32 << 20, max(1 << 20, -(-size // n // 4)))


def split(size, n):
    if size is None:
        return [{"start": 0, "end": 0, "done": 0}]
    if n <= 1 or size < n:
        return [{"start": 0, "end": size, "done": 0}]
    step = size // n
    out = []
    for i in range(n):
        end = size if i == n - 1 else (i + 1) * step
        out.append({"start": i * step, "end": end, "done": 0})
    return out


def same_file(path, size, sha256):
    try:
        if size is not None and os.path.getsize(path) != size:
            return False
        if sha256:
            return sha256_file(path) == sha256
        return size is not None
    except OSError:
        return False


def exists_message(path):
    return (
        "A different file is already at %s; choose another file name or allow overwriting."
        % path
    )


# ---------------------------------------------------------------- the worker


def make_entry(req, job_id, final, folder, source):
    t = now()
    return {
        "progress": 0,
        "status": "starting",
        "url": strip_secrets(req["url"]),
        "start_time": t,
        "timestamp": t,
        "file_size": None,
        "downloaded": 0,
        "speed": 0,
        "eta": None,
        "file_size_mb": 0,
        "downloaded_mb": 0,
        "speed_mb": 0,
        "eta_minutes": None,
        "error": None,
        "id": job_id,
        "folder": folder,
        "filename": os.path.basename(final),
        "sha256": (req.get("sha256") or "").lower() or None,
        "source": source,
        "connections": max(1, min(32, int(req.get("connections") or 1))),
        "attempts": 1,
        "owner": my_owner(),
        "progress_time": t,
        "resumable": False,
        "rev": 0,
    }


class Worker(object):
    """The detached process that runs one download and reports it in the status file."""

    def __init__(self, ws, status, req, job_id, final, entry):
        self.ws = ws
        self.status = status
        self.entry = entry
        self.final = final
        self.id = job_id
        self.control = os.path.join(ws, ".podpull", "control", job_id)
        log_dir = os.path.join(ws, ".podpull", "logs")
        os.makedirs(log_dir, exist_ok=True)
        self.log_file = open(os.path.join(log_dir, job_id + ".log"), "a")
        self.dl = Download(req, job_id, final, status, self.log)
        self.dl.on_tick = self.tick
        self.last_write = 0.0
        self.last_control = 0.0
        self.speed = 0.0
        self.sample = (now(), 0)

    def log(self, msg):
        # Only sentences we compose: never headers, tokens or request JSON.
        self.log_file.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), msg))
        self.log_file.flush()

    def write(self, **fields):
        self.entry.update(fields)
        # A live worker writes it: whatever it ends as, no one has to resume it.
        self.entry["interrupted"] = False
        self.entry["owner"] = (
            None
            if self.entry["status"] not in ACTIVE
            else my_owner()
        )

        def fn(data):
            cur = data.get(self.final)
            if isinstance(cur, dict) and cur.get("id") not in (None, self.id):
                if cur.get("status") in ACTIVE and owner_alive(cur.get("owner")):
                    return  # someone else took this destination over: leave it alone
            put_entry(data, self.final, self.entry)
            self.entry["rev"] = data[self.final]["rev"]

        self.status.update(fn)
        self.last_write = now()

    def progress_fields(self):
        dl = self.dl
        done = dl.downloaded()
        t = now()
        t0, d0 = self.sample
        if t - t0 >= 0.5:
            inst = (done - d0) / (t - t0)
            self.speed = inst if self.speed == 0 else 0.3 * inst + 0.7 * self.speed
            self.sample = (t, done)
        size = dl.size
        eta = (size - done) / self.speed if size and self.speed > 0 else None
        f = {
            "file_size": size,
            "downloaded": done,
            "progress": int(done * 100 // size) if size else 0,
            "speed": round(self.speed, 1),
            "eta": round(eta, 1) if eta is not None else None,
            "file_size_mb": round((size or 0) / 1048576.0, 1),
            "downloaded_mb": round(done / 1048576.0, 1),
            "speed_mb": round(self.speed / 1048576.0, 1),
            "eta_minutes": round(eta / 60.0, 1) if eta is not None else None,
            "attempts": dl.attempts,
            "resumable": dl.resumable(),
        }
        if done > self.entry.get("downloaded", 0):
            f["progress_time"] = t
        return f

    def tick(self):
        t = now()
        if t - self.last_control >= 0.5:
            self.last_control = t
            self.check_control()
        if t - self.last_write >= 1.0:
            self.write(status="downloading", **self.progress_fields())

    def check_control(self):
        try:
            with open(self.control) as f:
                word = f.read().strip()
        except OSError:
            return
        if word in ("pause", "cancel"):
            self.dl.stop_reason = word
            self.dl.interrupt(word)

    def on_signal(self, signum, _frame):
        self.check_control()
        self.dl.interrupt("pause")

    def catch_signals(self):
        # Before our pid is published: a pause must never meet the default SIGTERM.
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGUSR1, self.on_signal)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def run(self):
        dl = self.dl
        self.log("start %s -> %s" % (dl.safe_url, self.final))
        try:
            dl.run()
            self.write(status="verifying", **self.progress_fields())
            dl.verify_and_install()
            f = self.progress_fields()
            f.update(progress=100, speed=0, eta=0, speed_mb=0, eta_minutes=0, resumable=False)
            f["file_size"] = dl.size
            f["file_size_mb"] = round((dl.size or 0) / 1048576.0, 1)
            self.write(status="completed", error=None, **f)
            self.log("completed (%d bytes fetched)" % dl.fetched)
        except Stopped:
            self.stopped()
        except HelperError as e:
            if dl.stop_reason is not None:
                return self.stopped()
            # Only a failed checksum (or a .part nothing can resume) is discarded:
            # an expired link or a flaky network says nothing about the bytes we have.
            if e.code == "checksum" or not dl.resumable():
                dl.close_fd()
                dl.discard_part()
            else:
                if dl.fd is not None:
                    dl.try_save_sidecar()  # keep what we have: a resume picks it up
                dl.close_fd()
                e.message = kept_part_message(e, dl.downloaded())
            self.log("error (%s): %s" % (e.code, e.message))
            f = self.progress_fields()
            f.update(speed=0, eta=None, speed_mb=0, eta_minutes=None)
            f["resumable"] = os.path.exists(dl.sidecar_path)
            try:
                self.write(status="error", error=e.message, error_code=e.code, **f)
            except OSError:
                if e.code != "no-space":
                    raise
                # The disk is too full even for the status file: the user must hear
                # why, so the partial file goes (its bytes can be fetched again).
                dl.discard_part()
                f["resumable"] = False
                msg = e.message + " The partial download was removed to free space."
                self.write(status="error", error=msg, error_code=e.code, **f)
        except Exception as e:  # a bug: report it rather than leave a ghost entry
            self.log("internal error: %r" % (e,))
            dl.close_fd()
            self.write(
                status="error",
                error="The pod helper failed unexpectedly: %s." % e.__class__.__name__,
                error_code="internal",
                resumable=os.path.exists(dl.sidecar_path),
            )
        finally:
            try:
                os.unlink(self.control)
            except OSError:
                pass

    def stopped(self):
        dl = self.dl
        f = self.progress_fields()
        f.update(speed=0, eta=None, speed_mb=0, eta_minutes=None)
        if dl.stop_reason == "cancel":
            dl.close_fd()
            dl.discard_part()
            f["resumable"] = False
            self.log("cancelled")
            self.write(status="cancelled", error=None, **f)
        else:
            if dl.resumable() and dl.fd is not None:
                dl.try_save_sidecar()
            dl.close_fd()
            f["resumable"] = os.path.exists(dl.sidecar_path)
            self.log("paused at %d bytes" % f["downloaded"])
            self.write(status="paused", error=None, **f)


def spawn_worker(ws, status, req, job_id, final, entry):
    """Forks a fully detached worker (double fork + setsid, stdio on /dev/null)
    and returns once it has taken the status entry over. The request, tokens
    included, reaches it only through the fork's memory."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.chdir("/")
            worker = Worker(ws, status, req, job_id, final, entry)
            worker.catch_signals()
            worker.write(status="starting")
            os.write(w, b"ok")
            os.close(w)
            worker.run()
        except BaseException:
            pass
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    got = b""
    while True:
        chunk = os.read(r, 16)
        if not chunk:
            break
        got += chunk
    os.close(r)
    if got != b"ok":
        raise HelperError("internal", "The download worker did not start.")


# ---------------------------------------------------------------- commands


def need(req, key, kind=str):
    v = req.get(key)
    if not isinstance(v, kind) or (kind is str and not v):
        raise HelperError("bad-request", 'The request needs "%s".' % key)
    return v


def status_for(req):
    ws = need(req, "workspace")
    if not os.path.isabs(ws):
        raise HelperError("bad-request", "The workspace must be an absolute path.")
    return ws, StatusFile(
        ws, req.get("retention_hours") or 24, req.get("stale_minutes") or 10
    )


def source_of(url):
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if host in TOKEN_HOSTS["hf"] or host.endswith(".huggingface.co"):
        return "huggingface"
    if host in TOKEN_HOSTS["civitai"] or host.endswith(".civitai.com"):
        return "civitai"
    return "direct"


def cmd_probe(req):
    ws = need(req, "workspace")
    try:
        os.makedirs(os.path.join(ws, ".podpull"), exist_ok=True)
        writable = os.access(ws, os.W_OK)
    except OSError:
        writable = False
    cands = []
    if req.get("comfyui"):
        cands.append(req["comfyui"])
    cands += [c for c in COMFY_CANDIDATES if c not in cands]
    found = next((c for c in cands if os.path.isdir(os.path.join(c, "models"))), None)
    return {
        "python": "%d.%d.%d" % sys.version_info[:3],
        "helper_version": HELPER_VERSION,
        "workspace": ws,
        "writable": writable,
        "free_bytes": free_bytes(ws),
        "comfyui": found,
        "candidates": cands,
    }


def check_url(url):
    p = urllib.parse.urlsplit(url)
    if p.scheme not in ("http", "https") or not p.hostname:
        raise HelperError("bad-request", "Only http:// and https:// links can be downloaded.")
    if re.search(r"[\x00-\x20\x7f]", url):
        raise HelperError("bad-request", "The link contains spaces or control characters.")


def check_start_request(req):
    check_url(need(req, "url"))
    need(req, "models_dir")
    if not os.path.isabs(req["models_dir"]):
        raise HelperError("bad-request", "The models folder must be an absolute path.")
    validate_folder(req.get("folder"))
    sha = req.get("sha256")
    if sha and not re.match(r"^[0-9a-fA-F]{64}$", str(sha)):
        raise HelperError("bad-request", "The SHA-256 must be 64 hexadecimal characters.")
    c = req.get("connections", 1)
    if not isinstance(c, int) or isinstance(c, bool) or not 1 <= c <= 32:
        raise HelperError("bad-request", "Connections must be a whole number from 1 to 32.")
    for k in ("tokens", "token_hosts"):
        if req.get(k) is not None and not isinstance(req[k], dict):
            raise HelperError("bad-request", '"%s" must be an object.' % k)


def remote_name_and_size(req):
    """One GET whose body we don't read: the file name and size the server gives."""
    http_ = Http(
        req["url"],
        req.get("tokens"),
        req.get("token_hosts"),
        float(req.get("stall_timeout_s") or 30),
    )
    for attempt in range(3):  # `start` answers in seconds: a short retry budget
        try:
            conn, resp, final_url = http_.open({"Range": "bytes=0-0"})
            break
        except HelperError as e:
            if not e.retry or attempt == 2:
                raise
            base = float(req.get("retry_base_s") or 1.0)
            wait = e.retry_after if e.retry_after is not None else base * 2**attempt
            time.sleep(min(wait, 5.0))
    try:
        size = None
        if resp.status == 206:
            size = content_range_total(resp)[1]
        elif resp.getheader("Content-Length") is not None:
            size = int(resp.getheader("Content-Length"))
        name = filename_from(resp.getheader("Content-Disposition"), final_url)
        return name, size
    finally:
        conn.close()


def cmd_start(req):
    check_start_request(req)
    ws, status = status_for(req)
    folder = validate_folder(req["folder"])
    name, size, probed = None, None, False
    if req.get("filename"):
        name = sanitize_filename(str(req["filename"]))
    else:
        name, size = remote_name_and_size(req)
        probed = True
    final = resolve_destination(req["models_dir"], folder, name, req.get("folder_root"))
    active = active_at(status, final)
    if active:
        return {"id": active, "outcome": "already-active", "path": final}
    sha = (req.get("sha256") or "").lower() or None
    if os.path.lexists(final):
        if not sha and not probed:
            _, size = remote_name_and_size(req)
        if same_file(final, size, sha):
            return {"id": req.get("id") or new_id(), "outcome": "already-present", "path": final}
        if not req.get("overwrite"):
            raise HelperError("exists", exists_message(final))
    job_id = req.get("id") or new_id()
    if not re.match(r"^[0-9a-f]{16}$", job_id):
        raise HelperError("bad-request", "A job id is 16 lowercase hex characters.")
    entry = make_entry(req, job_id, final, folder, source_of(req["url"]))
    claimed = claim(status, final, entry)
    if claimed != job_id:
        return {"id": claimed, "outcome": "already-active", "path": final}
    clear_control(ws, job_id)
    spawn_worker(ws, status, req, job_id, final, entry)
    return {"id": job_id, "outcome": "started", "path": final}


def new_id():
    return os.urandom(8).hex()


def active_at(status, final):
    e = status.mark_stale().get(final)
    live = isinstance(e, dict) and owner_alive(e.get("owner")) is not False
    if live and e.get("status") in ACTIVE:
        return e.get("id")
    return None


def claim(status, final, entry):
    """Writes our 'starting' entry unless a live job already has this destination."""

    def fn(data):
        cur = data.get(final)
        if (
            isinstance(cur, dict)
            and cur.get("status") in ACTIVE
            and cur.get("id") != entry["id"]
            and owner_alive(cur.get("owner")) is not False
            and not status.stale_reason(cur)
        ):
            return cur.get("id")
        put_entry(data, final, entry)
        entry["rev"] = data[final]["rev"]
        return entry["id"]

    return status.update(fn)


def clear_control(ws, job_id):
    d = os.path.join(ws, ".podpull", "control")
    os.makedirs(d, exist_ok=True)
    try:
        os.unlink(os.path.join(d, job_id))
    except FileNotFoundError:
        pass


def cmd_resume(req):
    ws, status = status_for(req)
    job_id = need(req, "id")
    key, e = status.find(job_id)
    if e.get("status") in ACTIVE and owner_alive(e.get("owner")) is not False:
        return {"id": job_id, "outcome": "already-active", "path": key}
    if e.get("status") == "completed":
        return {"id": job_id, "outcome": "already-present", "path": key}
    folder = e.get("folder") or ""
    if req.get("url") is not None:
        check_url(need(req, "url"))
    try:
        check_stored_destination(key, req.get("models_dir"), inventory_roots(req))
    except HelperError as err:
        refuse_entry(status, key, err)
        raise
    r = {
        "url": resume_url(req, key, e),
        "sha256": e.get("sha256"),
        "connections": e.get("connections") or 1,
        "tokens": req.get("tokens") or {},
        "token_hosts": req.get("token_hosts") or {},
        "overwrite": bool(req.get("overwrite")),
    }
    for k in ("stall_timeout_s", "max_attempts", "retry_base_s"):
        if k in req:
            r[k] = req[k]
    entry = make_entry(r, job_id, key, folder, e.get("source") or source_of(r["url"]))
    entry.update(
        start_time=e.get("start_time") or now(),
        attempts=int(e.get("attempts") or 1) + 1,
        downloaded=e.get("downloaded") or 0,
        file_size=e.get("file_size"),
        rev=e.get("rev") or 0,
    )
    claimed = claim(status, key, entry)
    if claimed != job_id:
        return {"id": claimed, "outcome": "already-active", "path": key}
    clear_control(ws, job_id)
    spawn_worker(ws, status, r, job_id, key, entry)
    return {"id": job_id, "outcome": "started", "path": key}


def resume_url(req, key, e):
    """A fresh link when given; else the link as given, from the 0600 sidecar,
    when it is the entry's (the status file only has it without its secrets)."""
    if req.get("url"):
        return req["url"]
    sc = read_json(key + ".part.json")
    kept = sc.get("url") if isinstance(sc, dict) else None
    if isinstance(kept, str) and strip_secrets(kept) == e.get("url"):
        return kept
    return e.get("url") or kept


def check_stored_destination(key, models_dir, roots=()):
    """A path read back from the status file is a claim, not a fact: it must be
    a plain absolute path whose folder's realpath is itself (no symlink
    components) inside the models folder or one of the folders
    extra_model_paths.yaml configures (roots: [(folder, dir)]), with no symlink
    at the final name, the .part or its sidecar."""

    def refuse(why):
        return HelperError("unsafe-path", "%s %s; PodPull will not write there." % (key, why))

    if not isinstance(key, str) or not os.path.isabs(key) or os.path.normpath(key) != key:
        raise refuse("is not a plain absolute path")
    folder = os.path.dirname(key)
    if os.path.realpath(folder) != folder or not os.path.isdir(folder):
        raise refuse("goes through a symbolic link or a missing folder")
    if models_dir is not None and not in_configured_root(folder, models_dir, roots):
        if roots:
            raise refuse(
                "is outside the models folder and every folder extra_model_paths.yaml configures"
            )
        raise refuse("is outside the models folder")
    for p in (key, key + ".part", key + ".part.json"):
        if os.path.islink(p):
            raise refuse("has a symbolic link at %s" % os.path.basename(p))


def refuse_entry(status, key, err):
    """The escaping entry becomes an error; nothing is written at its path."""

    def fn(data):
        cur = data.get(key)
        if isinstance(cur, dict):
            cur = dict(cur)
            cur.update(
                status="error", error=err.message, error_code=err.code, owner=None,
                speed=0, eta=None, resumable=False, interrupted=False,
            )
            put_entry(data, key, cur)

    status.update(fn)


def stop_job(req, word):
    ws, status = status_for(req)
    job_id = need(req, "id")
    key, e = status.find(job_id)
    st = e.get("status")
    if word == "cancel" and st == "completed":
        raise HelperError("bad-request", "That download already finished; remove it instead.")
    settled_pause = st == "paused" and not e.get("interrupted")
    if st == "cancelled" or (word == "pause" and (st in TERMINAL or settled_pause)):
        return {}
    owner = e.get("owner")
    if st in ACTIVE and owner_alive(owner):
        d = os.path.join(ws, ".podpull", "control")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, job_id), "w") as f:
            f.write(word)
        try:
            os.kill(owner["pid"], signal.SIGTERM)
        except OSError:
            pass
        deadline = now() + 10  # answer once the worker settled, so the app sees it
        while True:
            time.sleep(0.1)
            cur = status.read().get(key)
            if not isinstance(cur, dict) or cur.get("status") not in ACTIVE:
                return {}
            if not owner_alive(owner):
                break  # it died instead of settling: settle it here
            if now() > deadline:
                raise HelperError("internal", "The download did not stop within 10 seconds.")
    # Nobody runs it (paused, or its worker died): settle it here.
    if word == "cancel":
        for p in (key + ".part", key + ".part.json"):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    def fn(data):
        cur = data.get(key)
        if isinstance(cur, dict):
            cur = dict(cur)
            cur.update(
                status="cancelled" if word == "cancel" else "paused",
                owner=None,
                speed=0,
                eta=None,
                error=None,
                interrupted=False,  # the user's word: auto-resume leaves it alone
                resumable=word != "cancel" and os.path.exists(key + ".part.json"),
            )
            put_entry(data, key, cur)

    status.update(fn)
    return {}


def cmd_remove(req):
    _, status = status_for(req)
    job_id = need(req, "id")
    key, e = status.find(job_id)
    if e.get("status") in ACTIVE and owner_alive(e.get("owner")) is not False:
        raise HelperError("bad-request", "That download is still running; cancel it first.")

    def fn(data):
        data.pop(key, None)

    status.update(fn)
    return {}


def cmd_clear_completed(req):
    _, status = status_for(req)

    def fn(data):
        keys = [
            k for k, e in data.items() if isinstance(e, dict) and e.get("status") == "completed"
        ]
        for k in keys:
            del data[k]
        return len(keys)

    return {"removed": status.update(fn)}


def cmd_status(req):
    _, status = status_for(req)
    return {"status": status.mark_stale()}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def cmd_watch(req):
    _, status = status_for(req)
    interval = max(0.05, min(1.0, float(req.get("interval") or 0.15)))
    last_sig, last_text, last_emit, last_beat = None, None, 0.0, now()
    pending = True
    # A pipe whose reader went away (the SSH channel closed) polls as POLLERR:
    # notice it within one interval instead of at the next write.
    poller = select.poll()
    poller.register(sys.stdout.fileno(), 0)
    try:
        while True:
            if any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0)):
                raise BrokenPipeError()
            try:
                st = os.stat(status.path)
                sig = (st.st_mtime_ns, st.st_size, st.st_ino)
            except OSError:
                sig = None
            if sig != last_sig:
                last_sig = sig
                pending = True
            t = now()
            if pending and t - last_emit >= 0.5:
                text = json.dumps(status.mark_stale(), sort_keys=True)
                if text != last_text:
                    emit({"type": "status", "status": json.loads(text)})
                    last_text, last_emit = text, t
                pending = False
            if t - last_beat >= 5:
                pending = True  # also settles entries whose worker died quietly
                emit({"type": "heartbeat", "t": t})
                last_beat = t
            time.sleep(interval)
    except (BrokenPipeError, KeyboardInterrupt):
        try:
            sys.stdout = None
        except Exception:
            pass
        os._exit(0)


def cmd_models(req):
    models_dir = need(req, "models_dir")
    out = []
    if not os.path.isdir(models_dir):
        raise HelperError("not-found", "The models folder %s does not exist." % models_dir)
    for root, dirs, files in os.walk(models_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = os.path.relpath(root, models_dir)
        if rel == ".":
            continue
        for name in sorted(files):
            if name.startswith(".") or name.endswith((".part", ".part.json")):
                continue
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue
            out.append({"folder": rel, "name": name, "size": st.st_size, "mtime": st.st_mtime})
    return {"models": out}


def cmd_log_tail(req):
    # For `podpull diagnostics`: the end of the newest job logs (sentences the
    # worker composed, never tokens), newest first.
    ws, _ = status_for(req)
    log_dir = os.path.join(ws, ".podpull", "logs")
    max_bytes = max(1024, min(1 << 20, int(req.get("bytes") or 64 * 1024)))
    try:
        names = [n for n in os.listdir(log_dir) if n.endswith(".log")]
    except OSError:
        return {"logs": []}
    paths = sorted(
        (os.path.join(log_dir, n) for n in names), key=os.path.getmtime, reverse=True
    )
    out = []
    for path in paths[: max(1, min(50, int(req.get("files") or 10)))]:
        with open(path, "rb") as fh:
            fh.seek(max(0, os.path.getsize(path) - max_bytes))
            tail = fh.read().decode("utf-8", "replace")
        out.append({"id": os.path.basename(path)[:-4], "tail": tail})
    return {"logs": out}
# ---------------------------------------------------------------- installed models (issue 10)
# The inventory with the folders extra_model_paths.yaml adds (parsed by the app,
# passed in as roots), leftover .part files, and delete / sha256 of a file the
# inventory lists (nothing else can be named). The hash is computed here on the
# pod: a model is never copied to be hashed.

MAX_EXTRA_PATHS_BYTES = 1 << 20
INVENTORY_DEPTH = 4


def inventory_roots(req):
    roots = req.get("roots") or []
    if not isinstance(roots, list):
        raise HelperError("bad-request", "roots must be a list.")
    out = []
    for r in roots:
        if not isinstance(r, dict) or not all(isinstance(r.get(k), str) for k in ("dir", "folder")):
            raise HelperError("bad-request", "Each root needs a folder and a dir.")
        if not os.path.isabs(r["dir"]):
            raise HelperError("bad-request", "An extra models folder must be an absolute path.")
        out.append((r["folder"], r["dir"]))
    return out


# ---------------------------------------------------------------- extra model roots (issue 10)
# extra_model_paths.yaml is parsed by the app, which also picks the root a
# folder's downloads go to (an `is_default: true` path, or the only path of a
# folder ComfyUI doesn't know): `start` gets it as folder_root, `resume` gets
# every configured root as roots. Containment is proven here, on the pod.


def extra_placement(folder_root, folder):
    """(root, sub-folder below it, name for messages) for a download into folder."""
    if (
        not isinstance(folder_root, str)
        or not os.path.isabs(folder_root)
        or os.path.normpath(folder_root) != folder_root.rstrip("/") or folder_root == "/"
    ):
        raise HelperError("bad-request", "folder_root must be a plain absolute path.")
    root = folder_root.rstrip("/")
    if not os.path.isdir(root):
        raise HelperError(
            "not-found",
            "%s, the %s folder extra_model_paths.yaml sets as the default, does not exist: "
            "create it or correct the file." % (root, folder.split("/")[0]),
        )
    return root, "/".join(folder.split("/")[1:]), root


def in_configured_root(folder, models_dir, roots):
    """folder (a realpath) lies below models/, or in or below an extra root."""
    real = os.path.realpath(models_dir).rstrip("/")
    if folder.startswith(real + "/"):
        return True
    for _kind, d in roots:
        r = os.path.realpath(d).rstrip("/")
        if r and (folder == r or folder.startswith(r + "/")):
            return True
    return False


def walk_inventory(models_dir, roots):
    models, partials, seen = [], [], set()

    def walk(directory, folder, depth, extra):
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        for name in names:
            if name.startswith("."):
                continue
            full = os.path.join(directory, name)
            try:
                st = os.stat(full)
            except OSError:
                continue
            if os.path.isdir(full):
                if depth < INVENTORY_DEPTH:
                    walk(full, folder + "/" + name if folder else name, depth + 1, extra)
                continue
            if not os.path.isfile(full) or not folder or full in seen:
                continue
            seen.add(full)
            item = {"folder": folder, "size": st.st_size, "mtime": int(st.st_mtime), "path": full}
            if name.endswith(".part"):
                item["name"] = name[: -len(".part")]
                partials.append(item)
            elif not (name.endswith(".part.json") or ".part.json.tmp-" in name):
                item["name"] = name
                if extra:
                    item["extra"] = True
                models.append(item)

    walk(models_dir, "", 0, False)
    for folder, directory in roots:
        walk(directory, folder, 1, True)
    return models, partials


def cmd_inventory(req):
    models_dir = need(req, "models_dir")
    if not os.path.isdir(models_dir):
        raise HelperError("not-found", "The models folder %s does not exist." % models_dir)
    models, partials = walk_inventory(models_dir, inventory_roots(req))
    return {"models": models, "partials": partials}


def listed_kind(req):
    path = need(req, "path")
    models, partials = walk_inventory(need(req, "models_dir"), inventory_roots(req))
    if any(m["path"] == path for m in models):
        return path, "model"
    if any(m["path"] == path for m in partials):
        return path, "partial"
    raise HelperError("not-found", "%s is not one of this pod's model files." % path[:300])


def cmd_model_sha256(req):
    path, kind = listed_kind(req)
    if kind != "model":
        raise HelperError("bad-request", "A partial download has no final hash yet.")
    return {"sha256": sha256_file(path)}


def cmd_model_delete(req):
    path, kind = listed_kind(req)
    os.remove(path)
    if kind == "partial":
        try:
            os.remove(path + ".json")
        except OSError:
            pass
    return {}


def cmd_extra_paths(req):
    comfyui = need(req, "comfyui")
    path = os.path.join(comfyui, "extra_model_paths.yaml")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_EXTRA_PATHS_BYTES + 1)
    except OSError:
        return {"text": None, "path": path}
    if len(data) > MAX_EXTRA_PATHS_BYTES:
        raise HelperError("too-large", "%s is larger than 1 MiB; it was not read." % path)
    return {"text": data.decode("utf-8", "replace"), "path": path}


COMMANDS = {
    "probe": cmd_probe,
    "start": cmd_start,
    "resume": cmd_resume,
    "pause": lambda r: stop_job(r, "pause"),
    "cancel": lambda r: stop_job(r, "cancel"),
    "remove": cmd_remove,
    "clear-completed": cmd_clear_completed,
    "status": cmd_status,
    "watch": cmd_watch,
    "models": cmd_models,
    "log-tail": cmd_log_tail,
    # installed models (issue 10)
    "inventory": cmd_inventory,
    "model-sha256": cmd_model_sha256,
    "model-delete": cmd_model_delete,
    "extra-paths": cmd_extra_paths,
}


def main(argv):
    if len(argv) != 2 or argv[1] not in COMMANDS:
        emit(
            {
                "ok": False,
                "code": "bad-request",
                "error": "Usage: podpull_helper.py <%s> with a JSON request on stdin."
                % "|".join(sorted(COMMANDS)),
            }
        )
        return 0
    try:
        req = json.loads(sys.stdin.read() or "{}")
        if not isinstance(req, dict):
            raise ValueError("not an object")
    except ValueError:
        emit({"ok": False, "code": "bad-request", "error": "The request is not a JSON object."})
        return 0
    try:
        answer = COMMANDS[argv[1]](req)
        out = {"ok": True}
        out.update(answer or {})
        emit(out)
    except HelperError as e:
        emit({"ok": False, "code": e.code, "error": e.message})
    except RestartNeeded:
        emit({"ok": False, "code": "http", "error": "The server refused the byte range."})
    except Exception as e:  # never a traceback with request data in it
        emit(
            {
                "ok": False,
                "code": "internal",
                "error": "The pod helper failed: %s." % e.__class__.__name__,
            }
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
