// The `.part` file: opened once per run, written at positions (so segments
// land at their own offsets in any order), synced before each sidecar update.
import { open, type FileHandle } from 'node:fs/promises'
import { EngineError } from './types'

export class PartFile {
  private constructor(
    private readonly fh: FileHandle,
    readonly path: string
  ) {}

  /** Opens (creating if needed) and, when `size` is known, sizes the file up front (sparse). */
  static async open(path: string, size: number | null): Promise<PartFile> {
    let fh: FileHandle
    try {
      fh = await open(path, 'r+').catch((err: { code?: string }) => {
        if (err.code === 'ENOENT') return open(path, 'w+')
        throw err
      })
    } catch (err) {
      throw writeError(err, path)
    }
    const file = new PartFile(fh, path)
    if (size !== null && (await fh.stat()).size !== size) await fh.truncate(size)
    return file
  }

  /** Writes the buffers back to back at `position` without joining them first (no extra copy). */
  async writev(bufs: Buffer[], position: number): Promise<void> {
    let written: number
    try {
      ;({ bytesWritten: written } = await this.fh.writev(bufs, position))
    } catch (err) {
      throw writeError(err, this.path)
    }
    const total = bufs.reduce((n, b) => n + b.length, 0)
    if (written < total) await this.write(Buffer.concat(bufs).subarray(written), position + written)
  }

  async write(buf: Buffer, position: number): Promise<void> {
    let off = 0
    try {
      while (off < buf.length) {
        const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, position + off)
        off += bytesWritten
      }
    } catch (err) {
      throw writeError(err, this.path)
    }
  }

  /** fdatasync: the bytes a sidecar is about to describe must be on disk first. */
  sync(): Promise<void> {
    return this.fh.datasync()
  }

  truncate(size: number): Promise<void> {
    return this.fh.truncate(size)
  }

  close(): Promise<void> {
    return this.fh.close()
  }
}

function writeError(err: unknown, path: string): EngineError {
  const code = (err as { code?: string }).code
  if (code === 'ENOSPC')
    return new EngineError('no-space', `The disk filled up while writing ${path}.`, true)
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new EngineError('unwritable', `Cannot write ${path}: permission denied.`)
  return new EngineError('unwritable', `Cannot write ${path} (${code ?? String(err)}).`)
}
