// Node turns an 'error' event nobody listens to into an uncaught exception, and
// one of those fails the whole test run (vitest exits 1) even when every test
// passed: a peer resetting a socket the test has finished with, a child that
// exits before reading its stdin. So every socket, server and child process a
// test or the harness makes gets a listener, through these.
import type { ChildProcess } from 'node:child_process'
import type { EventEmitter } from 'node:events'

/** Adds an 'error' listener that keeps each error in `seen` (for a test that
 *  checks it) and otherwise lets it go; returns the emitter. */
export function withErrorListener<T extends EventEmitter>(e: T, seen: Error[] = []): T {
  e.on('error', (err: Error) => seen.push(err))
  return e
}

/** The same for a child process and its three pipes (EPIPE on stdin when the
 *  child exits first is the usual one). Failures to start still reach `seen`. */
export function childWithErrorListeners<T extends ChildProcess>(child: T, seen: Error[] = []): T {
  withErrorListener(child, seen)
  for (const s of [child.stdin, child.stdout, child.stderr]) if (s) withErrorListener(s, seen)
  return child
}
