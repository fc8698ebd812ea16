// The pod-side owner of an upload (helper `push-keep`), seen from the sender:
// started once the sender knows where it sends from, it holds the status
// entry while the bytes flow. Over exec + SFTP it also hashes the .part as it
// grows and installs it when told the file's sha256 on its stdin, so the pod
// does not read the whole file again and no helper starts for the commit;
// through a terminal (no stdin after the request) `push-commit` does that.
import { UserError, isErrorCode } from '../../errors'
import type { HelperClient } from '../../ssh/helperClient'
import type { LineStream } from '../../ssh/sshConnection'

type Message = Record<string, unknown>

export interface KeeperContext {
  helper: HelperClient
  workspace: string
}

export class PushKeeper {
  private onAnswer: ((m: Message) => void) | null = null

  private constructor(
    private readonly ctx: KeeperContext,
    private readonly id: string,
    private readonly stream: LineStream
  ) {}

  /** Starts push-keep for upload `id`, sent from byte `from`, and resolves once
   *  it holds the entry ({"type": "held"}). `verify`: it hashes and installs. */
  static open(ctx: KeeperContext, id: string, from: number, verify: boolean): Promise<PushKeeper> {
    return new Promise((resolve, reject) => {
      let keeper: PushKeeper | null = null
      let held = false
      const onMessage = (m: Message): void => {
        if (held) {
          keeper?.onAnswer?.(m)
        } else if (m.type === 'held') {
          held = true
          if (keeper) resolve(keeper)
        } else if (m.ok === false) {
          reject(new UserError('internal', String(m.error ?? 'The pod refused the upload.')))
        }
      }
      const request = { workspace: ctx.workspace, id, from, ...(verify ? { verify: true } : {}) }
      void ctx.helper.stream('push-keep', request, onMessage, { keepInput: verify }).then((s) => {
        keeper = new PushKeeper(ctx, id, s)
        if (held) resolve(keeper)
        void s.done.then(() => {
          if (!held) reject(new UserError('offline', `The pod ended the upload before it began.`))
        })
      }, reject)
    })
  }

  /** Resolves when the keeper is gone (it ended, was stopped, or the link dropped). */
  get done(): Promise<void> {
    return this.stream.done
  }

  close(): void {
    this.stream.close()
  }

  /** Every byte is on the pod: it installs the file once its sha256 matches. */
  async commit(sha256: string): Promise<void> {
    const { stream } = this
    if (!stream.send) {
      await this.ctx.helper.call('push-commit', {
        workspace: this.ctx.workspace,
        id: this.id,
        sha256
      })
      return
    }
    const answer = new Promise<Message>((resolve, reject) => {
      this.onAnswer = (m) => {
        if (m.type === 'committed' || m.type === 'failed' || m.ok === false) resolve(m)
      }
      void stream.done.then(() =>
        reject(
          new UserError('offline', 'The link to the pod dropped before it installed the file.')
        )
      )
    })
    stream.send(JSON.stringify({ commit: sha256 }) + '\n')
    const m = await answer
    if (m.type === 'committed') return
    throw new UserError(
      isErrorCode(m.code) ? m.code : 'internal',
      typeof m.error === 'string' ? m.error : 'The pod could not install the upload.'
    )
  }
}
