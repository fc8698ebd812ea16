// Writes a body slice of generated content to a response: as fast as the
// socket takes it, or paced by a per-response token bucket whose rate is read
// on every step (so setFaults can unthrottle a download already under way),
// holds at a gate the test opens, then ends, drops the connection, or stalls
// with the socket left open.
import type { ServerResponse } from 'node:http'
import { sliceAt } from './content'

export interface PumpPlan {
  seed: string
  start: number // first byte offset in the file
  limit: number // body bytes to write before `after`
  after: 'end' | 'drop' | 'stall'
  rate: () => number | undefined // bytes/s, undefined = unthrottled
  /** A gate: the file offset at which the body pauses (undefined = open), read on every step. */
  holdAt?: () => number | undefined
  /** Resolves when the faults change (the test may have opened the gate). */
  changed?: () => Promise<void>
  onBytes: (n: number) => void
}

// Tiny throttled steps would cost a timer each; 20 steps a second keeps the
// pace smooth without burning the shared CPU.
const STEPS_PER_SECOND = 20
const MAX_THROTTLED_STEP = 256 * 1024

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

function flushed(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const ok = res.write(chunk, () => resolve())
    if (!ok) res.once('close', resolve)
  })
}

interface Bucket {
  rate: number
  since: number // ms timestamp the current rate took effect
  base: number // bytes sent at `since`
}

/** How long to wait before `want` more bytes may go, given the bucket. */
function waitFor(b: Bucket, sent: number, want: number): number {
  const allowed = b.base + ((performance.now() - b.since) / 1000) * b.rate + want
  const excess = sent + want - allowed
  return excess <= 0 ? 0 : Math.max(1, Math.ceil((excess / b.rate) * 1000))
}

export async function pump(res: ServerResponse, plan: PumpPlan): Promise<void> {
  let closed = res.destroyed
  res.once('close', () => (closed = true))
  let sent = 0
  let bucket: Bucket | null = null
  if (plan.limit === 0 && plan.after !== 'end') {
    // No body at all: the headers still go out before the stall or drop.
    res.flushHeaders()
    if (plan.after === 'drop') res.socket?.end()
    return
  }
  const closing = new Promise<void>((r) => res.once('close', () => r()))
  // A client that went away (killed, hung up) leaves the socket half-open (http
  // servers allow that): end the response rather than count bytes sent into nothing.
  const hungUp = (): void => void res.destroy()
  res.socket?.once('end', hungUp)
  closing.then(
    () => res.socket?.off('end', hungUp),
    () => undefined
  )
  while (sent < plan.limit && !closed) {
    const hold = plan.holdAt?.()
    if (hold !== undefined && plan.start + sent >= hold) {
      // Held at the gate: nothing more goes until the test moves or opens it
      // (the headers do, so a client sees the response start).
      if (sent === 0) res.flushHeaders()
      await Promise.race([plan.changed?.() ?? closing, closing])
      continue
    }
    const rate = plan.rate()
    let max = plan.limit - sent
    if (hold !== undefined) max = Math.min(max, hold - plan.start - sent)
    if (rate !== undefined && rate > 0) {
      if (!bucket || bucket.rate !== rate) bucket = { rate, since: performance.now(), base: sent }
      max = Math.min(max, Math.max(1, Math.floor(rate / STEPS_PER_SECOND)), MAX_THROTTLED_STEP)
      const wait = waitFor(bucket, sent, max)
      if (wait > 0) {
        await sleep(wait)
        continue // the rate may have changed meanwhile
      }
    } else bucket = null
    const chunk = sliceAt(plan.seed, plan.start + sent, max)
    sent += chunk.length
    plan.onBytes(chunk.length)
    const last = sent >= plan.limit
    if (last && plan.after === 'drop') await flushed(res, chunk)
    else if (!res.write(chunk)) await drainOrClose(res)
  }
  if (closed) return
  if (plan.after === 'end') res.end()
  else if (plan.after === 'drop') res.socket?.destroy()
  // 'stall': leave the socket open; the client or close() ends it.
}
