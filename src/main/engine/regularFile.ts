// Files PodPull reads back from a folder others can write (the status file,
// sidecars) are opened without blocking and read only when they are regular
// files: a FIFO put in their place would hang a plain read, and the app with it.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs'
import { open } from 'node:fs/promises'

const FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)

/** The file's text; undefined when it is not a regular file. Throws (ENOENT…) as readFile does. */
export async function readRegularFile(path: string): Promise<string | undefined> {
  const fh = await open(path, FLAGS)
  try {
    if (!(await fh.stat()).isFile()) return undefined
    return await fh.readFile('utf8')
  } finally {
    await fh.close()
  }
}

/** readRegularFile for the few synchronous readers. */
export function readRegularFileSync(path: string): string | undefined {
  const fd = openSync(path, FLAGS)
  try {
    return fstatSync(fd).isFile() ? readFileSync(fd, 'utf8') : undefined
  } finally {
    closeSync(fd)
  }
}
