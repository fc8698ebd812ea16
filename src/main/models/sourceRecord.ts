// Where each file a workspace downloaded came from, so `sets export` can name
// a source long after the status file dropped the finished download. Kept at
// <workspace>/.podpull/sources.jsonl (docs/formats.md "Source record"): one
// JSON line appended per finished download, by the TS engine here and by the
// pod helper (podpull_helper/sourcerecord.py). Appending one short line keeps
// concurrent finishers from losing each other's record without a lock; the
// last line for a path wins.
import { appendFile, mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export interface SourceRecord {
  /** Absolute path of the installed file. */
  path: string
  /** The link as the status file shows it (no secrets). */
  url: string
  size: number | null
  sha256: string | null
  /** Epoch seconds. */
  at: number
}

export const sourceRecordPath = (workspace: string): string =>
  join(workspace, '.podpull', 'sources.jsonl')

const SHA = /^[0-9a-f]{64}$/

function recordOf(line: string): SourceRecord | null {
  let v: Partial<SourceRecord> | null
  try {
    v = JSON.parse(line) as Partial<SourceRecord> | null
  } catch {
    return null // a torn last line (a crash mid-append): the rest still counts
  }
  if (typeof v?.path !== 'string' || typeof v.url !== 'string' || !/^https?:/i.test(v.url))
    return null
  return {
    path: v.path,
    url: v.url,
    size: Number.isSafeInteger(v.size) ? (v.size as number) : null,
    sha256: typeof v.sha256 === 'string' && SHA.test(v.sha256) ? v.sha256 : null,
    at: typeof v.at === 'number' ? v.at : 0
  }
}

/** The record's lines by path, the last line for a path winning. */
export function parseSourceRecords(text: string): Map<string, SourceRecord> {
  const out = new Map<string, SourceRecord>()
  for (const line of text.split('\n')) {
    const r = line.trim() ? recordOf(line) : null
    if (r) out.set(r.path, r)
  }
  return out
}

export async function appendSourceRecord(
  workspace: string,
  r: Omit<SourceRecord, 'at'>
): Promise<void> {
  const file = sourceRecordPath(workspace)
  await mkdir(dirname(file), { recursive: true })
  const line = JSON.stringify({
    ...r,
    sha256: r.sha256?.toLowerCase() ?? null,
    at: Date.now() / 1000
  })
  await appendFile(file, `${line}\n`)
}

export async function readSourceRecords(workspace: string): Promise<Map<string, SourceRecord>> {
  return parseSourceRecords(await readFile(sourceRecordPath(workspace), 'utf8').catch(() => ''))
}
