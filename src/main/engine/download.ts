// One download from start to installed file: check what is already on disk,
// ask the server about the file, resume or start the `.part`, run the
// connections, verify, and install by rename. The queue, the status file and
// job states live in the local target; this reports through onProgress.
import { rm, stat } from 'node:fs/promises'
import { renameRetrying } from './renameRetry'
import { checkFinished } from './finishedCheck'
import { RetryableError } from './httpClient'
import { PartFile } from './partFile'
import { checkFreeSpace, planPart } from './partPlan'
import { ProgressReporter } from './progressReporter'
import { rawSpeaks } from './rawHttp'
import { probeRemote, type ProbeOptions, type RemoteInfo } from './remoteInfo'
import { refusedLink, RestartNeeded } from './segmentFetcher'
import { MAX_WAIT_MS, waitToRetry, WaitTooLong, type WaitPolicy } from './retryWait'
import { SignedLink } from './signedLink'
import { doneBytes, MIN_SEGMENT } from './segmentPlanner'
import { partPath, readSidecar, removePartial, sidecarPath } from './sidecar'
import { transfer, type TransferCounters, type TransferSetup } from './transfer'
import { EngineError, type EngineJob, type EngineOptions, type EngineResult } from './types'
import { formatBytes } from '../../shared/format'
import { sha256File } from './verify'
import { IDLE_HASHING } from './frontierHash'

const DEFAULTS = {
  stallTimeoutMs: 60_000,
  maxAttempts: 8,
  retryBaseMs: 1000,
  maxWaitMs: MAX_WAIT_MS,
  segmentThreshold: 16 * 1024 * 1024
}
/** A server that keeps changing the file under us is not worth more restarts. */
const MAX_RESTARTS = 3

type Settings = typeof DEFAULTS & EngineOptions

export async function runDownload(job: EngineJob, opts: EngineOptions): Promise<EngineResult> {
  const cfg: Settings = { ...DEFAULTS, ...withoutUndefined(opts) }
  const reporter = new ProgressReporter(opts.onProgress)
  const counters: TransferCounters = { bytesFetched: 0, attempts: 1, active: 0 }
  try {
    reporter.setState('starting')
    for (let restarts = 0; ; restarts++) {
      try {
        return await attemptRun(job, cfg, reporter, counters)
      } catch (err) {
        if (!(err instanceof RestartNeeded)) throw err
        await removePartial(job.finalPath)
        if (restarts + 1 >= MAX_RESTARTS)
          throw new EngineError('http', 'The file kept changing on the server while downloading.')
      }
    }
  } catch (err) {
    if (opts.signal.aborted) {
      // Stopped before the transfer started (probe, hashing): a .part from an earlier run stays usable.
      const kept = await stat(sidecarPath(job.finalPath)).then(
        () => true,
        () => false
      )
      return stopped(job, opts.signal.reason, counters, kept)
    }
    throw await keptPartError(job, err)
  } finally {
    reporter.stop()
  }
}

/** Errors that say nothing about the bytes already on disk: the `.part` is kept
 *  (only cancel, a changed validator or a failed checksum discard it). */
const KEEPS_PART = new Set(['auth', 'html', 'network', 'http'])

/** The error, saying what was kept and how to go on when a resumable `.part` is left. */
async function keptPartError(job: EngineJob, err: unknown): Promise<unknown> {
  // A wait past the cap already says how to go on.
  if (!(err instanceof EngineError) || !KEEPS_PART.has(err.code) || err instanceof WaitTooLong)
    return err
  const sc = await readSidecar(job.finalPath)
  // Nothing kept, nothing to continue from: the error says all there is.
  if (!sc || doneBytes(sc.segments) === 0) return err
  const kept = formatBytes(doneBytes(sc.segments))
  const fix =
    err.code === 'auth' || err.code === 'html'
      ? `The link expired or needs a token: paste a fresh link to continue from ${kept}.`
      : `The partial download is kept: resume, or paste a fresh link, to continue from ${kept}.`
  return new EngineError(err.code, `${err.message} ${fix}`, true)
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}

async function stopped(
  job: EngineJob,
  reason: unknown,
  counters: TransferCounters,
  resumable: boolean
): Promise<EngineResult> {
  const cancel = reason === 'cancel'
  if (cancel) await removePartial(job.finalPath)
  return {
    outcome: cancel ? 'cancelled' : 'paused',
    fileSize: null,
    bytesFetched: counters.bytesFetched,
    sha256: null,
    resumable: !cancel && resumable
  }
}

async function attemptRun(
  job: EngineJob,
  cfg: Settings,
  reporter: ProgressReporter,
  counters: TransferCounters
): Promise<EngineResult> {
  const expectedSha = job.sha256?.trim().toLowerCase() || null
  if (expectedSha !== null && !/^[0-9a-f]{64}$/.test(expectedSha))
    throw new EngineError('bad-request', 'The SHA-256 must be 64 hexadecimal characters.')
  const existing = await stat(job.finalPath).catch(() => undefined)
  if (existing && expectedSha && (await sha256File(job.finalPath, cfg.signal)) === expectedSha)
    return present(existing.size, expectedSha, counters)

  // One connection and nothing of the file here yet: the probe's answer is
  // the whole download. (Several connections ask for bounded spans: an
  // open-ended first answer would send a TCP window's worth of bytes that the
  // next segment fetches again.)
  const single = !(Math.floor(job.connections) > 1)
  const fresh = !existing && !(await stat(sidecarPath(job.finalPath)).catch(() => undefined))
  const http = { auth: cfg.auth, authHint: cfg.authHint, headersTimeoutMs: cfg.stallTimeoutMs }
  const link = job.signedRedirect ? new SignedLink(job.url, http, cfg.signal) : undefined
  const wait: WaitPolicy = {
    retryBaseMs: cfg.retryBaseMs,
    maxWaitMs: cfg.maxWaitMs,
    notice: (text) => reporter.setNotice(text)
  }
  const info = await probeWithRetries(job.url, cfg, counters, single && fresh, link, wait)
  if (existing) {
    if (!expectedSha && info.size !== null && existing.size === info.size) {
      info.body?.close()
      return present(existing.size, null, counters)
    }
    if (!job.overwrite) {
      info.body?.close()
      throw existsError(job.finalPath, existing.size, info.size, expectedSha !== null)
    }
  }

  const { plan, file } = await openPart(job, cfg, info)
  const setup: TransferSetup = {
    ...plan,
    url: job.url,
    finalPath: job.finalPath,
    file,
    size: info.size,
    initialBody: info.body,
    limiter: cfg.limiter,
    fastUrl: rawSpeaks(info.url) ? info.url : undefined,
    rawOff: info.unsized,
    link,
    http,
    // Only when the bytes must be checked: SHA-256 costs about as much CPU as
    // the TLS of an HTTPS download, and at loopback speed it made downloads up to
    // 3x slower. A download hashed here gives the content index its hash for free.
    hashAlong: expectedSha !== null,
    // The others are hashed by a thread that gets only CPU the download leaves
    // unused: on a real link (network-bound) it keeps up; on a link faster than
    // the CPU it falls behind and finishes after the install (sha256Later).
    hashIdle: expectedSha === null && IDLE_HASHING && cfg.idleHash !== false,
    stallTimeoutMs: cfg.stallTimeoutMs,
    maxAttempts: cfg.maxAttempts,
    wait,
    minSplit: Math.min(MIN_SEGMENT, cfg.segmentThreshold)
  }
  const resumable = setup.sidecar !== undefined
  reporter.setState('downloading', {
    fileSize: info.size,
    downloaded: () => doneBytes(setup.segments),
    attempts: () => counters.attempts,
    resumable,
    connections: () => counters.active
  })

  let outcome
  try {
    outcome = await transfer(setup, cfg.signal, counters)
  } catch (err) {
    await file.close() // the .part stays: see keptPartError
    throw err
  }
  if (outcome.kind === 'stopped') {
    await file.close()
    return stopped(job, outcome.reason, counters, resumable)
  }
  reporter.setState('verifying')
  // No fsync before install, like curl and aria2c: a sync here would wait for
  // the disk to catch up with gigabytes the page cache took at network speed.
  await file.close()
  // An idle hash is never waited for: its thread goes on reading the file it
  // opened (the same inode after the rename) and settles sha256Later.
  const later = setup.hashIdle ? outcome.sha256.catch(() => null) : undefined
  const sha = await checkFinished(
    job.finalPath,
    outcome.size,
    info.size,
    expectedSha,
    later ? null : await outcome.sha256.catch(() => null), // a failed hashing thread: hash the file instead
    cfg.signal
  )
  await renameRetrying(partPath(job.finalPath), job.finalPath)
  await rm(sidecarPath(job.finalPath), { force: true })
  return {
    outcome: 'completed',
    fileSize: outcome.size,
    bytesFetched: counters.bytesFetched,
    sha256: sha,
    resumable: false,
    ...(later ? { sha256Later: later } : {})
  }
}

/** The segment plan and the open `.part`; a failure on the way closes the probe's body. */
async function openPart(job: EngineJob, cfg: Settings, info: RemoteInfo) {
  try {
    const plan = await planPart(job, cfg, info)
    await checkFreeSpace(job.finalPath, info.size, doneBytes(plan.segments), cfg)
    return { plan, file: await PartFile.open(partPath(job.finalPath), info.size) }
  } catch (err) {
    info.body?.close()
    throw err
  }
}

function present(size: number, sha256: string | null, counters: TransferCounters): EngineResult {
  return {
    outcome: 'already-present',
    fileSize: size,
    bytesFetched: counters.bytesFetched,
    sha256,
    resumable: false
  }
}

function existsError(path: string, have: number, want: number | null, byHash: boolean) {
  return new EngineError('exists', differentFileMessage(path, have, want, byHash))
}

/** Why the file already at `path` is not the download (a local start says it the same way). */
export function differentFileMessage(
  path: string,
  have: number,
  want: number | null,
  byHash: boolean
): string {
  const why = byHash
    ? 'its SHA-256 differs from the expected one'
    : want === null
      ? 'the download size is unknown, so it cannot be compared'
      : `it is ${formatBytes(have)}, the download is ${formatBytes(want)}`
  return `A different file already exists at ${path} (${why}): remove it or choose to overwrite it.`
}

/** The first request, retried like any other on network errors, 5xx and 429. */
async function probeWithRetries(
  url: string,
  cfg: Settings,
  counters: TransferCounters,
  keepBody: boolean,
  link: SignedLink | undefined,
  wait: WaitPolicy
): Promise<RemoteInfo> {
  const http = { auth: cfg.auth, authHint: cfg.authHint, headersTimeoutMs: cfg.stallTimeoutMs }
  const opts = { ...http, signal: cfg.signal, keepBody }
  for (let failures = 1; ; failures++) {
    try {
      return link ? await probeLink(link, opts) : await probeRemote(url, opts)
    } catch (err) {
      if (cfg.signal.aborted || !(err instanceof RetryableError)) throw err
      if (failures >= cfg.maxAttempts) {
        if (/HTTP \d/.test(err.message))
          throw new EngineError('http', `${err.message} Gave up after ${failures} attempts.`)
        throw new EngineError(
          'network',
          `The download could not start (${err.message}) after ${failures} attempts.`
        )
      }
      counters.attempts++
      await waitToRetry(err, failures, wait, cfg.signal)
    }
  }
}

/** The probe at the hub's signed link (asked for without Range), once more with a new link if refused. */
async function probeLink(link: SignedLink, opts: ProbeOptions): Promise<RemoteInfo> {
  const at = await link.current()
  try {
    return await probeRemote(at.href, opts)
  } catch (err) {
    if (!refusedLink(err)) throw err
    return probeRemote((await link.refused(at)).href, opts)
  }
}
