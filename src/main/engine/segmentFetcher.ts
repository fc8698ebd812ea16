// Fetches one segment of the file into the `.part`, retrying with backoff
// until it is complete: each attempt asks for the bytes still missing
// (Range + If-Range), opens one BodyReader (raw socket or undici), writes
// what it reads synchronously at its offset (memory stays one read buffer
// per connection whatever the file size), and watches for stalls.
import type { Hash } from 'node:crypto'
import { seconds } from './backoff'
import {
  describe,
  get,
  htmlError,
  isHtmlType,
  looksLikeHtml,
  refusal,
  RetryableError,
  unreachable,
  type HttpOptions
} from './httpClient'
import { streamReader, type BodyReader, type InitialBody } from './bodyReader'
import type { PartFile } from './partFile'
import { rawGet, rawSpeaks, type RawResponse } from './rawHttp'
import { totalFromContentRange } from './remoteInfo'
import type { Segment } from './segmentPlanner'
import { waitToRetry, type WaitPolicy } from './retryWait'
import { isLinkRefusal, type SignedLink } from './signedLink'
import { EngineError } from './types'
import type { BandwidthLimiter } from './bandwidthLimiter'

/** The server no longer serves the same bytes (200 to a range, new validator or size). */
export class RestartNeeded extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'RestartNeeded'
  }
}

class StallError extends RetryableError {}

export interface FetchContext {
  url: string
  file: PartFile
  /** null while unknown (no Content-Length): one stream, read to its end. */
  size: number | null
  /** Ranges work and the size is known: each attempt resumes where the last stopped. */
  rangesOk: boolean
  validator: string | null
  /**
   * Shared by the connections: the `http:`/`https:` URL the raw body path asks
   * (the probe's final hop), undefined while only undici is to be used;
   * `off` once the server answered in a way the raw path does not speak.
   */
  fast: { url?: URL; off?: boolean }
  /** The job URL is a hub's resolve URL: ranges go only to the signed link it gives. */
  link?: SignedLink
  http: Omit<HttpOptions, 'signal' | 'range' | 'ifRange'>
  /** Aborts on pause, cancel, or another connection's fatal error. */
  signal: AbortSignal
  stallTimeoutMs: number
  maxAttempts: number
  /** How long to wait between attempts, and what to show meanwhile. */
  wait: WaitPolicy
  /** Only one segment in this run (a 200 from byte 0 is then fine). */
  single: () => boolean
  /** Most bytes one request asks for (Infinity: to the segment's end). */
  requestSpan: number
  /** A whole-file body from the probe, usable once by an attempt starting at byte 0. */
  takeInitialBody: () => InitialBody | undefined
  /** A single stream without ranges: bytes are hashed in file order as they are written (else frontierHash.ts). */
  hash?: { current: Hash; reset: () => void }
  onNetworkBytes: (n: number) => void
  /** The target's shared bandwidth budget (unlimited unless capped). */
  limiter?: BandwidthLimiter
  /** A wait while the hashing thread is too far behind (frontierHash.ts HashLeadGate). */
  hashLead?: () => Promise<void> | undefined
  onRetry: () => void
  /** Another connection failed for good: finish the request under way, start no other. */
  windingDown: () => boolean
}

/** What the connection on a segment has read so far (ahead of what is written). */
export interface WorkerState {
  received: number
  /** Absolute end (exclusive) of the bytes the current request asked for. */
  requestEnd: number
}

export async function fetchSegment(
  seg: Segment,
  ctx: FetchContext,
  st: WorkerState
): Promise<void> {
  let failures = 0
  for (;;) {
    const before = seg.done
    try {
      await attempt(seg, ctx, st)
      if (seg.start + seg.done >= seg.end || ctx.windingDown()) return
      failures = 0 // one span done: the next request, at once
      continue
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      if (err instanceof EngineError || err instanceof RestartNeeded) throw err
      if (ctx.windingDown()) return // what this request brought is written
      // A connection that moved bytes before failing starts a fresh count:
      // a flaky but working link is not a dead one.
      failures = seg.done > before ? 1 : failures + 1
      if (failures >= ctx.maxAttempts) throw gaveUp(err, failures, ctx)
      ctx.onRetry()
      await waitToRetry(err, failures, ctx.wait, ctx.signal)
    }
  }
}

function gaveUp(err: unknown, attempts: number, ctx: FetchContext): EngineError {
  // How to go on is said once, with what was kept (download.ts keptPartError).
  const resumable = ctx.rangesOk && ctx.validator !== null
  if (err instanceof RetryableError && !(err instanceof StallError) && /HTTP \d/.test(err.message))
    return new EngineError('http', `${err.message} Gave up after ${attempts} attempts.`, resumable)
  const why = err instanceof RetryableError ? err.message : describe(err)
  return new EngineError(
    'network',
    `The download kept failing (${why}) after ${attempts} attempts.`,
    resumable
  )
}

async function attempt(seg: Segment, ctx: FetchContext, st: WorkerState): Promise<void> {
  if (!ctx.rangesOk && seg.done > 0) {
    seg.done = 0 // no ranges: every attempt starts over
    ctx.hash?.reset()
  }
  st.received = seg.done
  const from = seg.start + seg.done
  st.requestEnd =
    ctx.rangesOk && ctx.size !== null ? Math.min(seg.end, from + ctx.requestSpan) : seg.end
  const reqCtl = new AbortController()
  const signal = AbortSignal.any([ctx.signal, reqCtl.signal])
  const stall = new StallWatch(ctx.stallTimeoutMs, reqCtl)
  try {
    stall.kick() // covers connect and head, like undici's headersTimeout
    const body = await openBody(from, ctx, st, signal)
    stall.kick()
    await pumpToFile(body, seg, ctx, st, stall)
  } catch (err) {
    if (reqCtl.signal.reason instanceof StallError && !ctx.signal.aborted)
      throw reqCtl.signal.reason
    if (ctx.signal.aborted || err instanceof EngineError || err instanceof RestartNeeded) throw err
    if (err instanceof RetryableError) throw err
    throw new RetryableError(`connection lost: ${describe(err)}`)
  } finally {
    stall.stop()
  }
}

/**
 * The body of the bytes still missing, positioned at `from`: the probe's
 * whole-file answer when it can serve, else the raw reader (see rawHttp.ts),
 * else undici, which handles every case the raw reader hands back.
 */
async function openBody(
  from: number,
  ctx: FetchContext,
  st: WorkerState,
  signal: AbortSignal
): Promise<BodyReader> {
  const initial = from === 0 ? ctx.takeInitialBody() : undefined
  if (initial) return initial.take(signal)
  if (ctx.link) return openFromLink(ctx.link, from, ctx, st, signal)
  const raw = await rawOpen(from, ctx, st, signal)
  if (raw) return raw
  const res = await get(ctx.url, {
    ...ctx.http,
    signal,
    range: ctx.rangesOk ? { from, to: st.requestEnd - 1 } : undefined,
    ifRange: ctx.validator ?? undefined
  })
  // The next attempts may read the body raw again, from where the redirects lead now.
  if (!ctx.fast.off && rawSpeaks(res.url)) ctx.fast.url = res.url
  if (!ctx.rangesOk || sameBytes(res.status, res.headers, from, ctx))
    return streamReader(res.body, signal)
  res.body.destroy()
  throw restart(res.status)
}

/** The bytes from `from` at the hub's signed link; a refused link (expired,
 *  signed for another range) is replaced once, never retried as it was. */
async function openFromLink(
  link: SignedLink,
  from: number,
  ctx: FetchContext,
  st: WorkerState,
  signal: AbortSignal
): Promise<BodyReader> {
  let url = await link.current()
  for (let renewed = false; ; renewed = true) {
    try {
      return await openAt(url, from, ctx, st, signal)
    } catch (err) {
      if (renewed || signal.aborted || !refusedLink(err)) throw err
      url = await link.refused(url)
    }
  }
}

export const refusedLink = (err: unknown): boolean =>
  err instanceof EngineError && err.httpStatus !== undefined && isLinkRefusal(err.httpStatus)

/** One ranged request at `url`: on the raw reader when the answer suits it, else undici. */
async function openAt(
  url: URL,
  from: number,
  ctx: FetchContext,
  st: WorkerState,
  signal: AbortSignal
): Promise<BodyReader> {
  const range = ctx.rangesOk ? { from, to: st.requestEnd - 1 } : undefined
  const opts = { ...ctx.http, signal, range, ifRange: ctx.validator ?? undefined }
  if (rawSpeaks(url) && !ctx.fast.off) {
    const res = await rawGet(url, opts).catch((err: unknown) => {
      if (signal.aborted) throw err
      throw unreachable(url, err)
    })
    const { status, headers } = res
    if (
      status >= 200 &&
      status < 300 &&
      res.length !== null &&
      !isHtmlType(headers['content-type'])
    ) {
      if (!ctx.rangesOk || sameBytes(status, headers, from, ctx)) return res
      res.close()
      throw restart(status)
    }
    res.close()
    if (status >= 400 && status !== 416) throw refusal(status, headers, url, url, opts)
    if (status >= 200 && status < 300 && res.length === null) ctx.fast.off = true
  }
  const res = await get(url.href, opts)
  if (!ctx.rangesOk || sameBytes(res.status, res.headers, from, ctx))
    return streamReader(res.body, signal)
  res.body.destroy()
  throw restart(res.status)
}

/** Whether an answer to a range request carries exactly the bytes asked for, of this file. */
function sameBytes(
  status: number,
  headers: Record<string, string | undefined>,
  from: number,
  ctx: FetchContext
): boolean {
  if (status === 206) {
    const m = /^bytes (\d+)-/.exec(headers['content-range'] ?? '')
    return Number(m?.[1]) === from && totalFromContentRange(headers['content-range']) === ctx.size
  }
  return (
    status === 200 && from === 0 && ctx.single() && Number(headers['content-length']) === ctx.size
  )
}

// Never splice bytes of two versions of a file together: start over.
const restart = (status: number): RestartNeeded =>
  new RestartNeeded(`the server sent ${status} for a part of the file`)

/**
 * The raw reader's answer, when the URL it asks is known. Undefined, having
 * read nothing, when the answer needs undici (redirect, chunked, a page, a
 * signed URL gone stale): the caller then asks again through
 * httpClient.get(), which handles every case as before.
 */
async function rawOpen(
  from: number,
  ctx: FetchContext,
  st: WorkerState,
  signal: AbortSignal
): Promise<BodyReader | undefined> {
  const url = ctx.fast.url
  if (!url || ctx.fast.off) return undefined
  const range = ctx.rangesOk ? { from, to: st.requestEnd - 1 } : undefined
  const opts = { ...ctx.http, signal, range, ifRange: ctx.validator ?? undefined }
  const res = await rawGet(url, opts).catch((err: unknown) => {
    if (signal.aborted) throw err
    throw unreachable(url, err)
  })
  try {
    if (!usableRaw(res, url, ctx, opts)) {
      res.close()
      return undefined
    }
    if (ctx.rangesOk && !sameBytes(res.status, res.headers, from, ctx)) throw restart(res.status)
  } catch (err) {
    res.close() // the connection is paused after the head: never leave it open
    throw err
  }
  return res
}

/** A plain 2xx body with a length is read raw; refusals from the first URL are thrown as get() would. */
function usableRaw(res: RawResponse, url: URL, ctx: FetchContext, opts: HttpOptions): boolean {
  const { status, headers } = res
  if (status >= 200 && status < 300) {
    // Chunked or unsized: undici from now on (the raw path reads only sized bodies).
    if (res.length === null) ctx.fast.off = true
    return res.length !== null && !isHtmlType(headers['content-type'])
  }
  const first = new URL(ctx.url)
  // Errors at the URL the job names are final answers: classify them exactly like
  // get() does. At a redirect target (maybe an expired signed URL), ask again from the start.
  if (status >= 400 && status !== 416 && url.href === first.href)
    throw refusal(status, headers, url, first, opts)
  return false
}

/**
 * Writes each slice where it belongs before the reader may reuse its buffer,
 * so `done` (and the running hash) always cover exactly the bytes written:
 * bytes in hand are on disk even when the link breaks, and the retry asks
 * only for what is really missing.
 */
async function pumpToFile(
  body: BodyReader,
  seg: Segment,
  ctx: FetchContext,
  st: WorkerState,
  stall: StallWatch
): Promise<void> {
  // The last wait for credit: a body that ends within a held batch must not
  // let the next request start before the credit reaches its bytes.
  let held: Promise<void> | undefined
  await body.pump((buf, start, end) => {
    stall.kick()
    ctx.onNetworkBytes(end - start)
    const pos = seg.start + seg.done
    if (pos === 0 && looksLikeHtml(buf.subarray(start, end)))
      throw htmlError(new URL(ctx.url), ctx.http)
    // The end can move down while we read: another connection took the tail.
    const stop = Math.min(end, start + Math.max(0, seg.end - pos))
    if (stop > start) {
      ctx.file.writeSync(buf, start, stop, pos)
      ctx.hash?.current.update(buf.subarray(start, stop))
      seg.done += stop - start
      st.received = seg.done
    }
    const wait = ctx.limiter?.take(end - start) ?? ctx.hashLead?.()
    if (wait) {
      held = wait
      stall.hold(wait)
      body.hold(wait)
    }
    return seg.start + seg.done < requestLimit(seg, st)
  })
  if (held) await held
  if (seg.start + seg.done < requestLimit(seg, st)) {
    if (ctx.size !== null) throw new RetryableError('the connection closed early')
    seg.end = seg.start + seg.done // unknown size: the end of the stream is the end of the file
  }
}

/** Where this request's bytes end: its span, or sooner when another connection took the tail. */
const requestLimit = (seg: Segment, st: WorkerState): number => Math.min(seg.end, st.requestEnd)

/** Aborts the request when no byte arrived for `ms`. */
class StallWatch {
  private timer: NodeJS.Timeout | undefined
  constructor(
    private readonly ms: number,
    private readonly ctl: AbortController
  ) {}
  kick(): void {
    if (this.timer) this.timer.refresh()
    else
      this.timer = setTimeout(
        () => this.ctl.abort(new StallError(`no data for ${seconds(this.ms)}`)),
        this.ms
      )
  }
  stop(): void {
    clearTimeout(this.timer)
  }
  /** A wait for bandwidth is no stall: the watch starts again when it ends. */
  hold(until: Promise<void>): void {
    this.stop()
    this.timer = undefined
    void until.then(() => this.kick())
  }
}
