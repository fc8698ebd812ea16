// The sha256 of a file as it is sent, computed on a worker thread: the thread
// that sends also runs ssh2's packets and cipher for every byte, and on a fast
// link it is the bottleneck; hashing beside it keeps the upload at the link's
// speed. The worker reads the prefix a resume keeps itself, then hashes each
// piece the sender hands it, in order (messages on one port keep their order).
import { Worker } from 'node:worker_threads'

// Evaluated as the worker's script: no file to find in the packaged app.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const { openSync, readSync, closeSync } = require('node:fs')
const hash = createHash('sha256')
const { path, from } = workerData
if (from > 0) {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(Math.min(from, 4 << 20))
    for (let pos = 0; pos < from; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, from - pos), pos)
      if (n === 0) throw new Error(path + ' got shorter while it was read.')
      hash.update(buf.subarray(0, n))
      pos += n
    }
  } finally {
    closeSync(fd)
  }
}
parentPort.on('message', (m) => {
  if (m === null) parentPort.postMessage(hash.digest('hex'))
  else hash.update(m)
})
`

export class StreamHash {
  private readonly worker: Worker
  private readonly result: Promise<string>

  /** Hashes `path`'s bytes [0, from) by itself; `update` gives it the rest. */
  constructor(path: string, from: number) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, from } })
    this.result = new Promise<string>((resolve, reject) => {
      this.worker.once('message', (m) => resolve(String(m)))
      this.worker.once('error', reject)
      this.worker.once('exit', (code) => reject(new Error(`The hashing thread ended (${code}).`)))
    })
    // Seen by digest(); a push stopped before then never asks.
    this.result.catch(() => undefined)
  }

  /** The next bytes of the file, in order (copied to the worker). */
  update(data: Buffer): void {
    this.worker.postMessage(data)
  }

  /** The sha256 of everything so far; the worker then ends. */
  async digest(): Promise<string> {
    this.worker.postMessage(null)
    try {
      return await this.result
    } finally {
      this.close()
    }
  }

  close(): void {
    void this.worker.terminate()
  }
}
