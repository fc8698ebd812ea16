// How commands reach a pod. Above this layer (HelperClient, PodTarget) nothing
// knows whether the pod is reached by exec channels + SFTP, or through one
// interactive terminal (RunPod's PTY-only SSH proxy): both run a command with
// a request on stdin, stream a command's lines, and put the helper in place.
import type { SFTPWrapper } from 'ssh2'
import { ensureHelper, type HelperFile, type UploadResult } from './helperUpload'
import { PtyTransport } from './ptyTransport'
import type {
  ExecOptions,
  ExecResult,
  LineStream,
  LinesOptions,
  SshConnection
} from './sshConnection'

/** What HelperClient needs: one command at a time, or a stream of lines. */
export interface CommandRunner {
  readonly where: string
  exec(command: string, stdin?: string, o?: ExecOptions): Promise<ExecResult>
  lines(
    command: string,
    stdin: string,
    onLine: (line: string) => void,
    o?: LinesOptions
  ): Promise<LineStream>
}

export type TransportKind = 'exec' | 'pty'

export interface PodTransport extends CommandRunner {
  readonly kind: TransportKind
  /** An SFTP session, where the pod offers one (exec transport only). */
  sftp?(): Promise<SFTPWrapper>
  /** Makes sure the pod has this helper build (uploads it when missing or different). */
  ensureHelper(workspace: string, helper: HelperFile): Promise<UploadResult>
  /** Ends what the transport opened beyond the connection (shells, extra connections). */
  close(): void
}

/** Exec channels and SFTP on the connection: the normal case. */
export class ExecTransport implements PodTransport {
  readonly kind = 'exec'
  constructor(private readonly conn: SshConnection) {}
  get where(): string {
    return this.conn.where
  }
  exec(command: string, stdin?: string, o?: ExecOptions): Promise<ExecResult> {
    return this.conn.exec(command, stdin, o)
  }
  lines(
    command: string,
    stdin: string,
    onLine: (line: string) => void,
    o?: LinesOptions
  ): Promise<LineStream> {
    return this.conn.lines(command, stdin, onLine, o)
  }
  ensureHelper(workspace: string, helper: HelperFile): Promise<UploadResult> {
    return ensureHelper(this.conn, workspace, helper)
  }
  sftp(): Promise<SFTPWrapper> {
    return this.conn.sftp()
  }
  close(): void {}
}

const EXEC_OK = 'podpull-exec-ok'
const DETECT_TIMEOUT_MS = 30_000

/** True when the server runs exec requests; false when it clearly refuses them
 *  (a PTY-only proxy fails the channel, or its wrapper answers with an error).
 *  A lost connection is not an answer: it is thrown. */
export async function execWorks(conn: SshConnection): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), DETECT_TIMEOUT_MS)
  })
  try {
    const r = await Promise.race([conn.exec(`echo ${EXEC_OK}`), timeout])
    if (r === 'timeout') return false
    if (r.code === 0 && r.stdout.includes(EXEC_OK)) return true
    if (r.code === null && !r.stdout) throw conn.error ?? new Error('the connection dropped')
    return false
  } catch (err) {
    if (err instanceof Error && /open failed|open failure|prohibited/i.test(err.message))
      return false
    throw err
  } finally {
    clearTimeout(timer)
  }
}

export interface TransportOptions {
  /** A known kind (from an earlier detection on this pod) skips the probe. */
  kind?: TransportKind
  /** A second connection to the same pod, for a proxy that allows one channel per connection. */
  spare: () => SshConnection
}

/** Picks the transport for a connected pod: exec when the server allows it, else the PTY. */
export async function openTransport(
  conn: SshConnection,
  opts: TransportOptions
): Promise<PodTransport> {
  const kind = opts.kind ?? ((await execWorks(conn)) ? 'exec' : 'pty')
  return kind === 'exec' ? new ExecTransport(conn) : new PtyTransport(conn, opts.spare)
}
