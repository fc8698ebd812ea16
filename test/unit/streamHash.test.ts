// The sha256 of an upload, computed on a worker thread from the prefix it
// reads itself and the pieces the sender hands it, in order.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { StreamHash } from '../../src/main/targets/pod/streamHash'

const dir = mkdtempSync(join(tmpdir(), 'podpull-streamhash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const data = randomBytes(5 * 1024 * 1024 + 123)
const file = join(dir, 'f.bin')
writeFileSync(file, data)
const sha = createHash('sha256').update(data).digest('hex')

/** Hands `data` from `from` on in uneven pieces, reusing one buffer as the sender's terminal path does. */
async function hashFrom(from: number): Promise<string> {
  const h = new StreamHash(file, from)
  const buf = Buffer.alloc(300_001)
  for (let at = from; at < data.length; at += buf.length) {
    const n = data.copy(buf, 0, at, Math.min(at + buf.length, data.length))
    h.update(buf.subarray(0, n))
  }
  return h.digest()
}

describe('StreamHash', () => {
  it('hashes every piece in order', async () => {
    expect(await hashFrom(0)).toBe(sha)
  })

  it('reads the prefix a resume keeps itself', async () => {
    expect(await hashFrom(4 * 1024 * 1024 + 7)).toBe(sha)
  })

  it('fails when the file is shorter than the prefix it was told of', async () => {
    const h = new StreamHash(file, data.length + 1)
    await expect(h.digest()).rejects.toThrow(/got shorter/)
  })
})
