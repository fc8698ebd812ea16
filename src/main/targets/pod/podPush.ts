// A local file pushed to a pod, resumable like a download. The pod side
// (helper push-begin/keep/chunk/commit) keeps <final>.part + sidecar and the
// status entry; this side asks the pod what its .part holds (block hashes, so
// a resume continues only after a prefix proven equal), sends the rest — SFTP
// writes in flight at once where the pod has SFTP, else checked base64 chunks
// through the helper over the terminal — hashing what it sends as it goes, on
// a worker thread (streamHash.ts; the bytes start at once, and the file is
// read once), and has the pod install it by rename once the whole file's
// sha256 matches there.
import { createHash } from 'node:crypto'
import { open as openLocal, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { pathToFileURL } from 'node:url'
import type { StartResult } from '../../../shared/types'
import { UserError } from '../../errors'
import type { HelperClient } from '../../ssh/helperClient'
import { sftpWriteFrom, type SftpWriteOptions } from '../../ssh/sftpWrite'
import type { PodTransport } from '../../ssh/transport'
import type { SFTPWrapper } from 'ssh2'
import { PushKeeper } from './pushKeeper'
import { StreamHash } from './streamHash'

export interface PushRequest {
  /** Absolute path of the local file. */
  file: string
  folder: string
  /** The name on the pod (default: the local file's name). */
  filename: string
  overwrite?: boolean
}

/** Test and bench hooks on the byte path. */
export type PushTuning = Pick<SftpWriteOptions, 'chunk' | 'concurrency' | 'beforeWrite' | 'onSent'>

export interface PushContext {
  helper: HelperClient
  transport: PodTransport
  workspace: string
  /** models_dir and folder_root, as a download's start sends them. */
  placement: Record<string, unknown>
  tuning?: PushTuning
}

/** What the pod answered to push-begin ("compare": a file of this size is
 *  already there, and only the sha256 can say whether it is this one). */
interface Begin {
  id: string
  outcome: StartResult['outcome'] | 'compare'
  path: string
  block?: number
  blocks?: string[]
}

/** Bytes per chunk over the terminal: its base64 goes through shell variables. */
const PTY_CHUNK = 256 * 1024
const CHUNK_TRIES = 3

/** The pod's block size for a file (upload.py block_size: ≤ 4096 blocks, ≥ 256 KiB). */
export function blockSize(size: number): number {
  const per = Math.ceil(size / 4096)
  return Math.max(256 * 1024, Math.ceil(per / 65536) * 65536)
}

/** Bytes hashed per read. */
const READ_SIZE = 4 << 20

/** The sha256 of a whole file (asked for only when the pod has a file of its size). */
export async function sha256File(path: string, size: number): Promise<string> {
  const whole = createHash('sha256')
  await readInOrder(path, 0, size, READ_SIZE, (part) => whole.update(part))
  return whole.digest('hex')
}

/** Reads [from, to) in order, `step` bytes at a time, and hands each piece on. */
async function readInOrder(
  path: string,
  from: number,
  to: number,
  step: number,
  use: (part: Buffer) => void
): Promise<void> {
  const fh = await openLocal(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(step, to - from)))
    for (let pos = from; pos < to;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - pos), pos)
      if (bytesRead === 0)
        throw new UserError('not-found', `${path} got shorter while it was read.`)
      use(buf.subarray(0, bytesRead))
      pos += bytesRead
    }
  } finally {
    await fh.close()
  }
}

/** Where a resume starts: after the leading blocks the pod's .part shares with
 *  this file (their first 16 hex of sha256). Only that prefix is read. */
export async function provePrefix(path: string, remote: string[], block: number): Promise<number> {
  let from = 0
  for (const want of remote) {
    const h = createHash('sha256')
    await readInOrder(path, from, from + block, Math.min(block, READ_SIZE), (part) =>
      h.update(part)
    )
    if (h.digest('hex').slice(0, 16) !== want) break
    from += block
  }
  return from
}

/** One push: begun, held on the pod, its bytes on the way. */
export class PushJob {
  /** Bytes this run put on the wire (file bytes, not protocol). */
  sent = 0
  readonly done: Promise<void>
  /** The pod ended the upload (a pause, a cancel, the keeper gone). */
  stoppedByPod = false
  /** The pod's commit decides the entry's end (a mismatch or a file in the way is said there). */
  settledByPod = false
  private readonly abort = new AbortController()

  private constructor(
    private readonly ctx: PushContext,
    private readonly req: PushRequest,
    readonly size: number,
    readonly begin: Begin,
    readonly from: number,
    private readonly keeper: PushKeeper,
    /** The sha256 of the file up to where the bytes sent so far reach. */
    private readonly whole: StreamHash,
    /** The file's sha256 when it was hashed before (a file of its size was there). */
    private readonly expected: string | undefined
  ) {
    this.done = this.run()
  }

  /** Begins on the pod and waits until the pod holds the upload; the bytes then
   *  flow in the background (`done`), hashed as they are read. */
  static async start(ctx: PushContext, req: PushRequest): Promise<PushJob | StartResult> {
    const st = await stat(req.file).catch(() => null)
    if (!st?.isFile())
      throw new UserError('not-found', `${req.file} is not a file on this computer.`)
    const size = st.size
    const request = {
      workspace: ctx.workspace,
      ...ctx.placement,
      folder: req.folder,
      filename: req.filename,
      size,
      source_url: pathToFileURL(req.file).href,
      source_host: hostname(),
      ...(req.overwrite ? { overwrite: true } : {})
    }
    let begin = await ctx.helper.call<Begin & { ok: true }>('push-begin', request)
    let expected: string | undefined
    if (begin.outcome === 'compare') {
      expected = await sha256File(req.file, size)
      begin = await ctx.helper.call<Begin & { ok: true }>('push-begin', {
        ...request,
        sha256: expected
      })
    }
    if (begin.outcome === 'compare')
      throw new UserError('internal', 'The pod asked for the sha256 it was given.')
    if (begin.outcome !== 'started')
      return { id: begin.id, outcome: begin.outcome, path: begin.path }
    const block = begin.block ?? blockSize(size)
    const from = await provePrefix(req.file, begin.blocks ?? [], block)
    // Over SFTP the keeper hashes the .part as it grows and installs it.
    const keeper = await PushKeeper.open(ctx, begin.id, from, !!ctx.transport.sftp)
    return new PushJob(
      ctx,
      req,
      size,
      begin,
      from,
      keeper,
      new StreamHash(req.file, from),
      expected
    )
  }

  /** Whether it is winding down (stopped here or by the pod). */
  get stopping(): boolean {
    return this.abort.signal.aborted
  }

  /** Stops sending (the pod keeps what it has). */
  stop(reason: string): void {
    this.abort.abort(new UserError('offline', reason))
  }

  private async run(): Promise<void> {
    const keeper = this.keeper
    // The keeper ends early on a pause, a cancel, or a lost connection.
    let sending = true
    void keeper.done.then(() => {
      if (!sending) return
      this.stoppedByPod = true
      this.abort.abort(new UserError('offline', 'The upload was stopped on the pod.'))
    })
    try {
      await this.send()
      sending = false
      const sha256 = await this.whole.digest()
      if (this.expected && sha256 !== this.expected)
        throw new UserError('checksum', `${this.req.file} changed while it was being sent.`)
      // Committed while the keeper still holds the entry (it installs, or
      // push-commit takes it over), so the entry never reads "paused" between.
      this.settledByPod = true
      await keeper.commit(sha256)
    } finally {
      sending = false
      this.whole.close()
      keeper.close()
      await keeper.done
    }
  }

  private send(): Promise<void> {
    const sftp = this.ctx.transport.sftp
    return sftp ? this.sendSftp(sftp.bind(this.ctx.transport)) : this.sendChunks()
  }

  private async sendSftp(open: () => Promise<SFTPWrapper>): Promise<void> {
    const sftp = await open()
    try {
      await sftpWriteFrom(sftp, this.req.file, `${this.begin.path}.part`, this.from, this.size, {
        ...this.ctx.tuning,
        signal: this.abort.signal,
        onData: (data) => this.whole.update(data),
        onSent: (n) => {
          this.sent += n
          this.ctx.tuning?.onSent?.(n)
        }
      })
    } finally {
      sftp.end()
    }
  }

  /** Over the terminal: each chunk's sha256 travels with it and is checked on the pod. */
  private async sendChunks(): Promise<void> {
    const fh = await openLocal(this.req.file, 'r')
    try {
      const buf = Buffer.allocUnsafe(PTY_CHUNK)
      for (let at = this.from; at < this.size;) {
        this.abort.signal.throwIfAborted()
        await this.ctx.tuning?.beforeWrite?.(at)
        const { bytesRead } = await fh.read(buf, 0, Math.min(PTY_CHUNK, this.size - at), at)
        if (bytesRead === 0)
          throw new UserError('not-found', `${this.req.file} got shorter while it was sent.`)
        this.whole.update(buf.subarray(0, bytesRead))
        await this.sendChunk(buf.subarray(0, bytesRead), at)
        at += bytesRead
      }
    } finally {
      await fh.close()
    }
  }

  private async sendChunk(data: Buffer, offset: number): Promise<void> {
    const request = {
      workspace: this.ctx.workspace,
      id: this.begin.id,
      offset,
      data: data.toString('base64'),
      sha256: createHash('sha256').update(data).digest('hex')
    }
    for (let attempt = 1; ; attempt++) {
      try {
        this.sent += data.length
        this.ctx.tuning?.onSent?.(data.length)
        await this.ctx.helper.call('push-chunk', request)
        return
      } catch (err) {
        // A chunk damaged on the way is sent again; anything else ends the run.
        if (!(err instanceof UserError && err.code === 'checksum') || attempt >= CHUNK_TRIES)
          throw err
      }
    }
  }
}
