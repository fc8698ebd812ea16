// Asking another process to pause or cancel a download (askOwner + the request
// file): two requests in a row from two processes — a Ctrl-C's pause, then a
// cancel — must both reach the owner; the first requester's clean-up must not
// drop the second one's word, or the cancel comes out as a pause.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { askOwner } from '../../src/main/targets/local/askOwner'
import {
  clearControlRequest,
  controlDir,
  writeControlRequest
} from '../../src/main/status/controlRequests'
import { StatusStore } from '../../src/main/status/statusStore'
import { waitFor } from '../support/wait'

const ID = 'abcdef0123456789'
let ws: string
let store: StatusStore

beforeEach(async () => {
  ws = await mkdtemp(join(tmpdir(), 'podpull-ask-'))
})
afterEach(async () => {
  await store?.close()
  await rm(ws, { recursive: true, force: true })
})

/** The status file as the owner (a live process: our parent) writes it. */
async function ownerWrites(path: string, status: string): Promise<void> {
  const now = Date.now() / 1000
  const entry = {
    status,
    id: ID,
    url: 'http://127.0.0.1:9/m.safetensors',
    folder: 'loras',
    filename: 'm.safetensors',
    start_time: now,
    timestamp: now,
    progress_time: now,
    resumable: true,
    owner: status === 'downloading' ? { host: 'testhost', pid: process.ppid, engine: 'ts' } : null
  }
  await writeFile(join(ws, '.download_status.json'), JSON.stringify({ [path]: entry }))
}

/** A download another live process runs, as this process's store sees it. */
async function downloadingElsewhere() {
  const path = join(ws, 'ComfyUI', 'models', 'loras', 'm.safetensors')
  await ownerWrites(path, 'downloading')
  store = new StatusStore({
    workspace: ws,
    retentionHours: () => 24,
    staleMinutes: () => 10,
    host: 'testhost'
  })
  store.on('error', (err) => expect.fail(String(err)))
  await store.open()
  return { path, entry: store.get(path)! }
}

const requestFile = (): Promise<string | null> =>
  readFile(join(controlDir(ws), ID), 'utf8').catch(() => null)

it("a pause's clean-up leaves a cancel written meanwhile by another process for the owner", async () => {
  const { path, entry } = await downloadingElsewhere()
  const paused = askOwner({ store, workspace: ws, path, entry, word: 'pause', answerMs: 120_000 })
  await waitFor(requestFile, 'the pause request', { until: (w) => w === 'pause' })
  // The owner takes the pause (as its inbox does) and is carrying it out when a
  // cancel from another process arrives.
  await clearControlRequest(ws, ID)
  await writeControlRequest(ws, ID, 'cancel')
  await ownerWrites(path, 'paused')
  const left = await paused
  expect(left?.status).toBe('paused')
  expect(await requestFile()).toBe('cancel')
})

it('a request nobody else replaced is cleared once answered', async () => {
  const { path, entry } = await downloadingElsewhere()
  const cancelled = askOwner({
    store,
    workspace: ws,
    path,
    entry,
    word: 'cancel',
    answerMs: 120_000
  })
  await waitFor(requestFile, 'the cancel request', { until: (w) => w === 'cancel' })
  // An owner that answers without taking the file (it ended by itself meanwhile).
  await ownerWrites(path, 'paused')
  await cancelled
  expect(await requestFile()).toBeNull()
})
