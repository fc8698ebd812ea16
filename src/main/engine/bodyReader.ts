// One shape for a response body, whichever client read it: the raw socket
// reader (rawHttp.ts, `http:` and `https:`) and undici's stream (redirects,
// chunked bodies, the probe's whole-file answer). The segment fetcher writes
// every body through the same sink, so the first-bytes page check and the
// tail clamp exist once.
import type { Readable } from 'node:stream'

/** Receives body bytes `buf[start, end)`; must not keep `buf` (it may be reused). Returns false to stop. */
export type BodySink = (buf: Buffer, start: number, end: number) => boolean

export interface BodyReader {
  /**
   * Feeds the body to `sink` until it ends or the sink returns false; rejects
   * when the connection fails (a body that ends short resolves: the caller
   * compares what it got with what it asked for). Called once.
   */
  pump: (sink: BodySink) => Promise<void>
  /** Closes the connection without reading (the rest of) the body. */
  close: () => void
  /** Stops reading the connection until `until` settles (a bandwidth cap's
   *  wait); the latest hold decides when reading goes on. */
  hold: (until: Promise<void>) => void
}

/**
 * The probe's answer from byte 0, still unread: the first request from byte 0
 * takes it over instead of asking again (one request and handshake fewer, as
 * curl and aria2c do), or it is closed unread.
 */
export interface InitialBody {
  /** The reader, ended by `signal` (the attempt's: a stall or a stop). Once. */
  take: (signal: AbortSignal) => BodyReader
  /** Closes it unread. */
  close: () => void
}

/** An undici body as an InitialBody. */
export const streamBody = (body: Readable): InitialBody => ({
  take: (signal) => streamReader(body, signal),
  close: () => void body.destroy()
})

/** A Node stream as a BodyReader; `signal` ends it (a stall or a stop must end the probe's body too). */
export function streamReader(body: Readable, signal: AbortSignal): BodyReader {
  const close = (): void => void body.destroy()
  let held: Promise<void> | undefined
  return {
    close,
    hold: (until) => {
      held = until
      body.pause()
      void until.then(() => {
        if (held === until && !body.destroyed) body.resume()
      })
    },
    pump: (sink) =>
      new Promise<void>((resolve, reject) => {
        let settled = false
        const done = (err?: unknown): void => {
          if (settled) return
          settled = true
          signal.removeEventListener('abort', onAbort)
          body.off('data', onData)
          body.destroy()
          if (err) reject(err as Error)
          else resolve()
        }
        const onAbort = (): void => done(signal.reason)
        const onData = (chunk: Buffer): void => {
          try {
            if (!sink(chunk, 0, chunk.length)) done()
          } catch (err) {
            done(err)
          }
        }
        if (signal.aborted) return onAbort()
        signal.addEventListener('abort', onAbort, { once: true })
        body.on('data', onData)
        body.once('error', (err) => done(err))
        body.once('end', () => done())
        body.once('close', () => done())
      })
  }
}
