// Process tree from /proc (Linux), to find the sshd children of a listener.
import { readFileSync, readdirSync } from 'node:fs'

export interface Proc {
  pid: number
  ppid: number
  comm: string
}

function readProc(pid: number): Proc | null {
  try {
    // "pid (comm) state ppid …": comm may hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const close = stat.lastIndexOf(')')
    const comm = stat.slice(stat.indexOf('(') + 1, close)
    const ppid = Number(stat.slice(close + 2).split(' ')[1])
    return { pid, ppid, comm }
  } catch {
    return null // exited while we looked
  }
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
