# Who runs an entry (host, pid, boot, start time) and whether it is still alive.
# TypeScript: status/entryAging.ts (owner checks).
import os
import socket


HOSTNAME = socket.gethostname()


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


_boot = []


def boot_id():
    if not _boot:
        try:
            with open("/proc/sys/kernel/random/boot_id") as f:
                _boot.append(f.read().strip() or None)
        except OSError:
            _boot.append(None)
    return _boot[0]
