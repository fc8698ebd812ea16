// The pod transport for servers that only give an interactive terminal
// (RunPod's SSH proxy). Helper calls share one shell, one at a time; every
// long-lived stream (`watch`) gets a shell of its own, on a second connection
// when the proxy allows only one channel per connection. The helper is
// uploaded through the shell as base64 chunks and checked by sha256.
import type { HelperFile, UploadResult } from './helperUpload'
import { uploadHelperOverShell } from './ptyUpload'
import { PTY_WINDOW, PtyShell } from './ptyShell'
import type { ExecResult, LineStream, SshConnection, SshState } from './sshConnection'
import type { PodTransport } from './transport'

export class PtyTransport implements PodTransport {
  readonly kind = 'pty'
  private shell: Promise<PtyShell> | null = null
  private readonly streams = new Set<LineStream>()
  private readonly onState = (s: SshState): void => {
    // Streams on a second connection outlive the first one's drop: end them,
    // the target subscribes again when it is back.
    if (s === 'offline') for (const st of [...this.streams]) st.close()
  }

  constructor(
    private readonly conn: SshConnection,
    private readonly spare: () => SshConnection
  ) {
    conn.on('state', this.onState)
  }

  get where(): string {
    return this.conn.where
  }

  async exec(command: string, stdin?: string): Promise<ExecResult> {
    const shell = await this.commandShell()
    return shell.run(command, stdin)
  }

  async lines(command: string, stdin: string, onLine: (line: string) => void): Promise<LineStream> {
    const { shell, extra } = await this.ownShell()
    let closing = false
    const stream: LineStream = {
      done: shell
        .run(command, stdin, (line) => {
          if (line.trim() && !closing) onLine(line.trim())
        })
        .then(() => undefined),
      error: null,
      close: () => {
        closing = true
        shell.close()
        extra?.close()
      }
    }
    this.streams.add(stream)
    void stream.done.finally(() => {
      this.streams.delete(stream)
      shell.close()
      extra?.close()
    })
    return stream
  }

  ensureHelper(workspace: string, helper: HelperFile): Promise<UploadResult> {
    return uploadHelperOverShell(this, workspace, helper)
  }

  close(): void {
    this.conn.off('state', this.onState)
    for (const st of [...this.streams]) st.close()
    void this.shell?.then((s) => s.close()).catch(() => undefined)
    this.shell = null
  }

  /** The shared shell for one-shot commands, reopened after a drop. */
  private async commandShell(): Promise<PtyShell> {
    const current = this.shell ? await this.shell.catch(() => null) : null
    if (current && !current.isClosed) return current
    const opening = openWithRetry(() => PtyShell.open(() => this.conn.shell(PTY_WINDOW)))
    this.shell = opening
    opening.catch(() => {
      if (this.shell === opening) this.shell = null
    })
    return opening
  }

  /** A shell for a stream: a new channel, or a new connection if the proxy refuses one. */
  private async ownShell(): Promise<{ shell: PtyShell; extra: SshConnection | null }> {
    try {
      return { shell: await PtyShell.open(() => this.conn.shell(PTY_WINDOW)), extra: null }
    } catch {
      const extra = this.spare()
      try {
        await extra.connect()
        return { shell: await PtyShell.open(() => extra.shell(PTY_WINDOW)), extra }
      } catch (err) {
        extra.close()
        throw err
      }
    }
  }
}

const RETRIES = 5

/** A server that allows one channel per connection may refuse a new one for a
 *  moment after the previous one closed (it has not reaped that session yet). */
async function openWithRetry(open: () => Promise<PtyShell>): Promise<PtyShell> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await open()
    } catch (err) {
      const refused = err instanceof Error && /open failed|open failure/i.test(err.message)
      if (!refused || attempt >= RETRIES) throw err
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt))
    }
  }
}
