// A shell user pipes the CLI into `head`, `grep -q` and the like, which close
// the pipe as soon as they have what they want. Node ignores SIGPIPE, so the
// next write fails with EPIPE on the stream, and an EPIPE nobody listens for
// is an uncaught error with a stack trace. The reader has what it asked for:
// end quietly, with success, as a program killed by SIGPIPE would in a shell.

/** On a closed stdout, runs `end` (which exits 0); a closed stderr is only
 *  ignored, because losing diagnostics is no reason to stop a download. */
export function endQuietlyOnClosedPipe(end: () => void): void {
  let ending = false
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    if (!ending) {
      ending = true
      end()
    }
  })
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
  })
}
