// A status-file reader a test holds: orders a read of the file against a write
// by a gate the test opens, instead of hoping the machine runs them in some order.
import { readStatus, type ParsedStatus } from '../../src/main/status/statusFile'

/** A status reader whose next read, once armed, is held until released (with
 *  what it read kept for the test): orders a read against a write by a gate. */
export function heldRead() {
  let armed = false
  let read: Promise<ParsedStatus> | undefined
  let open!: () => void
  const released = new Promise<void>((r) => (open = r))
  return {
    armOnce: () => void (armed = true),
    release: () => open(),
    /** What the held read found, once it has read (before it is let go). */
    seen: () => read ?? Promise.reject(new Error('no read was held')),
    reader: async (file: string): Promise<ParsedStatus> => {
      if (!armed) return readStatus(file)
      armed = false
      read = readStatus(file)
      const parsed = await read
      await released
      return parsed
    }
  }
}
