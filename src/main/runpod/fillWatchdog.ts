// The fill pod's own watchdog: a few lines of stdlib Python started on the
// pod (detached, one per pod) once work is handed to it, so the pod removes
// itself when PodPull is closed or gone — when nothing in the volume's status
// file has been active for a while, or at the pod's maximum lifetime whatever
// happens. It removes the pod with what RunPod gives every pod: `runpodctl`
// and the pod-scoped RUNPOD_API_KEY in the pod's environment (the REST API
// with that key when runpodctl is missing). PodPull's own key never goes to
// the pod; the script and its settings arrive on stdin, not on the command line.
import { PYTHON_FLAGS } from '../ssh/helperClient'
import { DEFAULT_REST } from './runpodApi'

/** Nothing active for this long (s) ends the pod; PODPULL_FILL_IDLE_SECONDS overrides. */
export const WATCHDOG_IDLE_S = 300

/**
 * The pod's lifetime in seconds: the target's max hours, unless
 * PODPULL_FILL_MAX_SECONDS sets a shorter one (a hard cap on the pod itself,
 * e.g. for a trial fill, and how the lifetime rule is exercised without
 * waiting hours).
 */
function lifetimeSeconds(maxHours: number): number {
  const cap = Number(process.env.PODPULL_FILL_MAX_SECONDS)
  const hours = maxHours * 3600
  return cap > 0 ? Math.min(cap, hours) : hours
}

const SCRIPT = String.raw`
import json, os, subprocess, sys, time, urllib.request
ACTIVE = ("queued", "starting", "downloading", "verifying")

def pid1_env(name):
    try:
        with open("/proc/1/environ", "rb") as f:
            for item in f.read().split(b"\0"):
                k, _, v = item.decode("utf-8", "replace").partition("=")
                if k == name:
                    return v
    except OSError:
        pass
    return ""

def env(name):
    return os.environ.get(name) or pid1_env(name)

ws = c["workspace"]
pod = env("RUNPOD_POD_ID")
if pod != c["pod_id"]:
    sys.exit(0)  # not the pod it was meant for: never remove another one
state = os.path.join(ws, ".podpull")
os.makedirs(state, exist_ok=True)
pidfile = os.path.join(state, "fill-watchdog-%s.pid" % pod)
try:
    with open(pidfile) as f:
        os.kill(int(f.read().strip()), 0)
    sys.exit(0)  # already watching this pod
except (OSError, ValueError):
    pass
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
log = open(os.path.join(state, "fill-watchdog-%s.log" % pod), "a")
null = os.open(os.devnull, os.O_RDONLY)
os.dup2(null, 0)
os.dup2(log.fileno(), 1)
os.dup2(log.fileno(), 2)
with open(pidfile, "w") as f:
    f.write(str(os.getpid()))

def say(msg):
    print(time.strftime("%Y-%m-%dT%H:%M:%S"), msg, flush=True)

say("watching pod %s: removed after %gs with nothing active, or at its maximum lifetime of %g h"
    % (pod, c["idle"], c["max_seconds"] / 3600.0))

def busy():
    try:
        with open(os.path.join(ws, ".download_status.json")) as f:
            status = json.load(f)
    except (OSError, ValueError):
        return False
    return any(isinstance(e, dict) and e.get("status") in ACTIVE for e in status.values())

def remove(why):
    say("removing pod %s: %s" % (pod, why))
    try:
        if subprocess.run(["runpodctl", "remove", "pod", pod], timeout=120).returncode == 0:
            return
    except (OSError, subprocess.SubprocessError) as e:
        say("runpodctl: %s" % e)
    key = env("RUNPOD_API_KEY")
    if not key:
        return say("no pod-scoped RUNPOD_API_KEY: cannot remove the pod")
    req = urllib.request.Request(c["rest"] + "/pods/" + pod, method="DELETE",
                                 headers={"Authorization": "Bearer " + key})
    try:
        urllib.request.urlopen(req, timeout=60).close()
    except Exception as e:
        say("DELETE failed: %s" % type(e).__name__)

deadline = c["started_at"] + c["max_seconds"]
idle_since = None
while os.path.isdir(ws):
    now = time.time()
    if now >= deadline:
        remove("maximum lifetime reached")
        break
    if busy():
        idle_since = None
    else:
        idle_since = idle_since or now
        if now - idle_since >= c["idle"]:
            remove("queue done")
            break
    time.sleep(c["poll"])
try:
    os.unlink(pidfile)
except OSError:
    pass
`

/** The command (fixed) and its stdin: one JSON line of settings, then the script. */
export function watchdogLaunch(o: {
  workspace: string
  podId: string
  /** Epoch ms the pod was created. */
  startedAt: number
  maxHours: number
}): { command: string; stdin: string } {
  const idle = Number(process.env.PODPULL_FILL_IDLE_SECONDS) || WATCHDOG_IDLE_S
  const settings = {
    workspace: o.workspace,
    pod_id: o.podId,
    started_at: o.startedAt / 1000,
    max_seconds: lifetimeSeconds(o.maxHours),
    idle,
    poll: Math.min(10, Math.max(0.2, idle / 4)),
    rest: (process.env.PODPULL_RUNPOD_ENDPOINT || DEFAULT_REST).replace(/\/+$/, '')
  }
  const boot = 'import sys,json;c=json.loads(sys.stdin.readline());exec(sys.stdin.read())'
  return {
    command: `python3 ${PYTHON_FLAGS.join(' ')} -c '${boot}'`,
    stdin: `${JSON.stringify(settings)}\n${SCRIPT}`
  }
}
