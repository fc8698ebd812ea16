// The pod helper writes each request's batches in a thread of its own while
// the next batch is read into its other buffer (segments.BatchWriter): a
// buffer is filled again only once its batch is on disk, a segment's `done`
// counts written bytes only, and after a failed write no later batch lands
// (a sidecar must never claim bytes past a hole).
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { IMPORT_HELPER } from '../conformance/helperDriver'

/** Runs `body` with `w` (a BatchWriter over 2 buffers of 4 bytes into a temp
 *  file, its writes slowed so a reused buffer would show), `seg`, `dl`, `read()`
 *  (the file's bytes); prints what `body` returns as JSON. */
function withWriter(body: string, failAt?: number): unknown {
  const script = `${IMPORT_HELPER}import json, os, tempfile, threading, time
from podpull_helper.errors import HelperError
from podpull_helper.segments import BatchWriter, SegmentsMixin

class Dl(SegmentsMixin):
    def __init__(self, path):
        self.part = self.final = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.lock = threading.Lock()
        self.fetched = 0

    def write_at(self, data, offset):
        time.sleep(0.05)  # a slow disk: the reader gets ahead if it may
        if offset == ${failAt ?? -1}:
            raise HelperError("no-space", "full")
        SegmentsMixin.write_at(self, data, offset)

path = os.path.join(tempfile.mkdtemp(), "x.part")
dl = Dl(path)
seg = {"start": 0, "end": 12, "done": 0}
w = BatchWriter(dl, seg, (bytearray(4), bytearray(4)))

def read():
    with open(path, "rb") as f:
        return f.read().decode("latin-1")

def batch(text, at):
    buf = w.free_buffer()
    buf[:len(text)] = text.encode()
    w.write(buf, len(text), at)

def run():
${body
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}

print(json.dumps(run()))
`
  return JSON.parse(execFileSync('python3', ['-I', '-S', '-c', script], { encoding: 'utf8' }))
}

describe('helper BatchWriter', () => {
  it('writes batches in order, never refilling a buffer before its batch is written', () => {
    const out = withWriter(`batch("AAAA", 0)
batch("BBBB", 4)
batch("CCCC", 8)
w.close()
return [read(), seg["done"], dl.fetched]`)
    expect(out).toEqual(['AAAABBBBCCCC', 12, 12])
  })

  it('after a failed write: the error is raised, done stops before it, no later batch lands', () => {
    const out = withWriter(
      `batch("AAAA", 0)
batch("BBBB", 4)
try:
    batch("CCCC", 8)
    w.close()
except HelperError as e:
    return [e.code, seg["done"], read().rstrip("\\x00")]
return "no error"`,
      4
    )
    expect(out).toEqual(['no-space', 4, 'AAAA'])
  })
})
