// Process tree from /proc (Linux), to find the sshd children of a listener.
import { readFileSync, readdirSync } from 'node:fs'

export interface Proc {
  pid: number
  ppid: number
  comm: string
  state: string // R, S, Z (zombie: dead, waiting to be reaped), …
}

function readProc(pid: number): Proc | null {
  try {
    // "pid (comm) state ppid …": comm may hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const close = stat.lastIndexOf(')')
    const comm = stat.slice(stat.indexOf('(') + 1, close)
    const [state = '?', ppid] = stat.slice(close + 2).split(' ')
    return { pid, ppid: Number(ppid), comm, state }
  } catch {
    return null // exited while we looked
  }
}

/** Gone, or dead and only waiting for its parent to reap it. */
export function isGone(pid: number): boolean {
  const p = readProc(pid)
  return p === null || p.state === 'Z' || p.state === 'X'
}

export function allProcs(): Proc[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => readProc(Number(n)))
    .filter((p): p is Proc => p !== null)
}

/** Every process below `root` (children, grandchildren, …). */
export function descendants(root: number): Proc[] {
  const procs = allProcs()
  const out: Proc[] = []
  const parents = new Set([root])
  for (let grew = true; grew;) {
    grew = false
    for (const p of procs) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid)
        out.push(p)
        grew = true
      }
    }
  }
  return out
}

/** Whether `pid`'s event loop waits for `fd` to be readable (an epoll set of
 *  the process watches it): the gate for "it reads that pipe asynchronously
 *  now", which no output of the process shows. */
export function pollsFd(pid: number, fd: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/fdinfo`).some((n) => {
      try {
        return new RegExp(`^tfd:\\s+${fd}\\s`, 'm').test(
          readFileSync(`/proc/${pid}/fdinfo/${n}`, 'utf8')
        )
      } catch {
        return false // closed while we looked
      }
    })
  } catch {
    return false // exited
  }
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux). */
const TICKS = 100

/** utime, stime, cutime, cstime (stat(5) fields 14-17) in seconds; zeros when gone. */
function cpuTimes(pid: number | 'self'): number[] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .slice(11, 15)
      .map((t) => Number(t) / TICKS)
  } catch {
    return [0, 0, 0, 0]
  }
}

/** CPU seconds (user + system) a process used, with those of the children it has reaped. */
export function cpuSeconds(pid: number): number {
  return cpuTimes(pid).reduce((a, b) => a + b, 0)
}

/** CPU seconds of the children this process has reaped (a finished execFile). */
export function reapedChildrenCpuSeconds(): number {
  const [, , cutime = 0, cstime = 0] = cpuTimes('self')
  return cutime + cstime
}

/** CPU seconds of `root` and every process below it (each counts its reaped children). */
export function treeCpuSeconds(root: number): number {
  return [root, ...descendants(root).map((p) => p.pid)].reduce((s, p) => s + cpuSeconds(p), 0)
}
