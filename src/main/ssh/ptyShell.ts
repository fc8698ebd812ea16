// Runs commands through ONE interactive shell on a pseudo-terminal, for servers
// that allow nothing else (RunPod's SSH proxy: no exec, no SFTP). The terminal
// is wide with echo off; each command is framed by sentinels carrying a fresh
// nonce and its exit code, so a prompt, a banner, ANSI colour codes or an
// echoed line can never be mistaken for output. A command's stdin is sent
// base64 in shell variables and piped in by `printf` (a builtin: it never
// appears in any process's argv), and shell history is off, so a request with
// tokens reaches the command's stdin and nothing else.
import { randomBytes } from 'node:crypto'
import { StringDecoder } from 'node:string_decoder'
import type { ClientChannel, PseudoTtyOptions } from 'ssh2'
import type { ExecResult } from './sshConnection'

/** Wide, so nothing the shell prints is wrapped; modes ask sshd for echo off. */
export const PTY_WINDOW: PseudoTtyOptions = {
  term: 'dumb',
  cols: 4000,
  rows: 50,
  modes: { ECHO: 0, ONLCR: 0 }
}

/** A terminal line holds at most 4095 bytes in canonical mode: stay well below. */
const CHUNK = 900
const SETUP_TIMEOUT_MS = 20_000

// CSI and OSC sequences, other two-byte escapes, and stray control characters.
const ANSI =
  // eslint-disable-next-line no-control-regex
  /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]/g

export function stripTerminalNoise(line: string): string {
  return line.replace(ANSI, '')
}

const nonce = (): string => randomBytes(8).toString('hex')
/** printf arguments that print `__PP<kind>_<id>` while the command text never
 *  contains that string (so an echoed command line cannot match). */
const marker = (kind: string, id: string): string => `printf '\\n__PP%s_%s\\n' ${kind} ${id}`

interface Running {
  id: string
  lines: string[]
  onLine?: (line: string) => void
  resolve: (r: ExecResult) => void
  begun: boolean
}

export class PtyShell {
  private readonly decoder = new StringDecoder('utf8')
  private pending = ''
  private current: Running | null = null
  private queue: Promise<unknown> = Promise.resolve()
  private closedFlag = false
  private readyId: string | null = null
  private onReady: (() => void) | null = null

  private constructor(private readonly ch: ClientChannel) {
    ch.on('data', (d: Buffer) => this.feed(this.decoder.write(d)))
    ch.stderr?.on('data', (d: Buffer) => this.feed(this.decoder.write(d)))
    ch.on('close', () => this.closed())
  }

  /** Opens the shell and turns off echo, prompts, history and line editing. */
  static async open(openChannel: () => Promise<ClientChannel>): Promise<PtyShell> {
    const shell = new PtyShell(await openChannel())
    await shell.setup()
    return shell
  }

  get isClosed(): boolean {
    return this.closedFlag
  }

  /** Runs one command line; `stdin` (if any) is its whole standard input. The
   *  result looks like an exec channel's: code null when the shell went away. */
  run(command: string, stdin?: string, onLine?: (line: string) => void): Promise<ExecResult> {
    const next = this.queue.then(() => this.runNow(command, stdin, onLine))
    this.queue = next.catch(() => undefined)
    return next
  }

  close(): void {
    if (this.closedFlag) return
    // Hanging up the terminal sends SIGHUP to what runs in it (a `watch`).
    this.ch.close()
  }

  private async setup(): Promise<void> {
    const id = nonce()
    this.readyId = id
    const ready = new Promise<void>((resolve, reject) => {
      this.onReady = resolve
      const timer = setTimeout(
        () => reject(new Error('the remote shell did not answer')),
        SETUP_TIMEOUT_MS
      )
      timer.unref?.()
      this.ch.once('close', () => reject(new Error('the remote shell closed at once')))
    })
    // A leading space keeps the line out of history where HISTCONTROL=ignorespace;
    // `set +o history` and no HISTFILE keep every later line out of it for sure.
    this.ch.write(
      ` stty -echo -onlcr 2>/dev/null; set +o history 2>/dev/null; unset HISTFILE;` +
        ` set +o emacs +o vi 2>/dev/null; PS1=''; PS2=''; PROMPT_COMMAND=''; ${marker('R', id)}\n`
    )
    await ready
  }

  private runNow(
    command: string,
    stdin: string | undefined,
    onLine?: (line: string) => void
  ): Promise<ExecResult> {
    if (this.closedFlag) return Promise.resolve({ stdout: '', stderr: '', code: null })
    const id = nonce()
    return new Promise<ExecResult>((resolve) => {
      this.current = { id, lines: [], onLine, resolve, begun: false }
      this.ch.write(this.script(id, command, stdin))
    })
  }

  private script(id: string, command: string, stdin: string | undefined): string {
    const lines: string[] = []
    let feed = ''
    let input = ' </dev/null'
    if (stdin !== undefined) {
      const b64 = Buffer.from(stdin, 'utf8').toString('base64')
      lines.push(' __pp=')
      for (let i = 0; i < b64.length; i += CHUNK)
        lines.push(` __pp="$__pp"${b64.slice(i, i + CHUNK)}`)
      feed = `printf '%s' "$__pp" | base64 -d | `
      input = ''
    }
    // The command on lines of its own inside a group, so a here-document in it
    // ends where it should and the group's exit code is the command's.
    lines.push(` ${marker('B', id)}; ${feed}{`, command, `}${input}; __pprc=$?; unset __pp;`)
    lines[lines.length - 1] += ` printf '\\n__PP%s_%s_%s\\n' E ${id} "$__pprc"`
    return lines.join('\n') + '\n'
  }

  private feed(text: string): void {
    this.pending += text
    let nl: number
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = stripTerminalNoise(this.pending.slice(0, nl))
      this.pending = this.pending.slice(nl + 1)
      this.line(line)
    }
  }

  private line(line: string): void {
    const t = line.trim()
    if (this.readyId && t === `__PPR_${this.readyId}`) {
      this.readyId = null
      this.onReady?.()
      return
    }
    const cur = this.current
    if (!cur) return // prompts, banners and the like between commands
    if (!cur.begun) {
      cur.begun = t === `__PPB_${cur.id}`
      return
    }
    const end = new RegExp(`^__PPE_${cur.id}_(\\d+)$`).exec(t)
    if (end) {
      // The end marker starts with a newline of its own: drop the empty line it adds.
      if (cur.lines.length && cur.lines[cur.lines.length - 1] === '') cur.lines.pop()
      this.finish({ stdout: cur.lines.join('\n'), stderr: '', code: Number(end[1]) })
      return
    }
    cur.lines.push(line)
    cur.onLine?.(line)
  }

  private finish(r: ExecResult): void {
    const cur = this.current
    this.current = null
    if (!cur) return
    // A terminal merges stdout and stderr: callers that read stderr for an
    // error sentence get the same text.
    cur.resolve(r.code === null ? r : { ...r, stderr: r.stdout })
  }

  private closed(): void {
    this.closedFlag = true
    const cur = this.current
    this.finish({ stdout: cur?.begun ? cur.lines.join('\n') : '', stderr: '', code: null })
  }
}
