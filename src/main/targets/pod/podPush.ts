// A local file pushed to a pod, resumable like a download. The pod side
// (helper push-begin/keep/chunk/commit) keeps <final>.part + sidecar and the
// status entry; this side hashes the file, asks the pod what its .part holds
// (block hashes, so a resume continues only after a prefix proven equal),
// sends the rest — SFTP writes in flight at once where the pod has SFTP, else
// checked base64 chunks through the helper over the terminal — and has the pod
// install it by rename once the whole file's sha256 matches there.
import { createHash } from 'node:crypto'
import { open as openLocal, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { pathToFileURL } from 'node:url'
import type { StartResult } from '../../../shared/types'
import { UserError } from '../../errors'
import type { HelperClient } from '../../ssh/helperClient'
import { sftpWriteFrom, type SftpWriteOptions } from '../../ssh/sftpWrite'
import type { LineStream } from '../../ssh/sshConnection'
import type { PodTransport } from '../../ssh/transport'
import type { SFTPWrapper } from 'ssh2'

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

/** What the pod answered to push-begin. */
interface Begin {
  id: string
  outcome: StartResult['outcome']
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

/** sha256 of the whole file and the first 16 hex of each whole block's. */
export async function hashLocal(
  path: string,
  size: number,
  block: number
): Promise<{ sha256: string; blocks: string[] }> {
  const whole = createHash('sha256')
  const blocks: string[] = []
  const fh = await openLocal(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(Math.min(block, 4 << 20) || 1)
    let blockHash = createHash('sha256')
    let inBlock = 0
    for (let pos = 0; pos < size;) {
      const want = Math.min(buf.length, size - pos, block - inBlock)
      const { bytesRead } = await fh.read(buf, 0, want, pos)
      if (bytesRead === 0)
        throw new UserError('not-found', `${path} got shorter while it was read.`)
      const part = buf.subarray(0, bytesRead)
      whole.update(part)
      blockHash.update(part)
      pos += bytesRead
      inBlock += bytesRead
      if (inBlock === block) {
        blocks.push(blockHash.digest('hex').slice(0, 16))
        blockHash = createHash('sha256')
        inBlock = 0
      }
    }
  } finally {
    await fh.close()
  }
  return { sha256: whole.digest('hex'), blocks }
}

/** Where a resume starts: after the leading blocks the pod and this file share. */
export function provenOffset(local: string[], remote: string[], block: number): number {
  let n = 0
  while (n < local.length && n < remote.length && local[n] === remote[n]) n++
  return n * block
}

/** One push: begun, held on the pod, its bytes on the way. */
export class PushJob {
  /** Bytes this run put on the wire (file bytes, not protocol). */
  sent = 0
  readonly done: Promise<void>
  /** The pod ended the upload (a pause, a cancel, the keeper gone). */
  stoppedByPod = false
  private readonly abort = new AbortController()

  private constructor(
    private readonly ctx: PushContext,
    private readonly req: PushRequest,
    readonly size: number,
    readonly begin: Begin,
    readonly from: number,
    private readonly keeper: LineStream
  ) {
    this.done = this.run()
  }

  /** Hashes the file, begins on the pod and waits until the pod holds the
   *  upload; the bytes then flow in the background (`done`). */
  static async start(ctx: PushContext, req: PushRequest): Promise<PushJob | StartResult> {
    const st = await stat(req.file).catch(() => null)
    if (!st?.isFile())
      throw new UserError('not-found', `${req.file} is not a file on this computer.`)
    const size = st.size
    const local = await hashLocal(req.file, size, blockSize(size))
    const begin = await ctx.helper.call<Begin & { ok: true }>('push-begin', {
      workspace: ctx.workspace,
      ...ctx.placement,
      folder: req.folder,
      filename: req.filename,
      size,
      sha256: local.sha256,
      source_url: pathToFileURL(req.file).href,
      source_host: hostname(),
      ...(req.overwrite ? { overwrite: true } : {})
    })
    if (begin.outcome !== 'started')
      return { id: begin.id, outcome: begin.outcome, path: begin.path }
    const from = provenOffset(local.blocks, begin.blocks ?? [], begin.block ?? blockSize(size))
    const keeper = await PushJob.hold(ctx, begin.id)
    return new PushJob(ctx, req, size, begin, from, keeper)
  }

  /** Starts push-keep and resolves once it holds the entry ({"type": "held"}). */
  private static hold(ctx: PushContext, id: string): Promise<LineStream> {
    return new Promise((resolve, reject) => {
      let stream: LineStream | null = null
      let held = false
      const onMessage = (m: Record<string, unknown>): void => {
        if (m.type === 'held' && !held) {
          held = true
          if (stream) resolve(stream)
        } else if (m.ok === false && !held) {
          reject(new UserError('internal', String(m.error ?? 'The pod refused the upload.')))
        }
      }
      void ctx.helper.stream('push-keep', { workspace: ctx.workspace, id }, onMessage).then((s) => {
        stream = s
        if (held) resolve(s)
        void s.done.then(() => {
          if (!held) reject(new UserError('offline', `The pod ended the upload before it began.`))
        })
      }, reject)
    })
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
      // Committed while the keeper still holds the entry: push-commit takes it
      // over (verifying, then completed), so the entry never reads "paused" between.
      await this.ctx.helper.call('push-commit', {
        workspace: this.ctx.workspace,
        id: this.begin.id
      })
    } finally {
      sending = false
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
