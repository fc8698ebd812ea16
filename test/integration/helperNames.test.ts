// The shared file-name vectors (test/vectors/filenames.json), the helper's
// side: its sanitize_filename gives every name the TypeScript side gives
// (test/unit/fileNameVectors.test.ts), so both engines save a file alike.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(__dirname, '../..')
const VECTORS = join(ROOT, 'test/vectors/filenames.json')

const PROGRAM = `
import json, sys
from podpull_helper.names import sanitize_filename
from podpull_helper.errors import HelperError
out = []
for c in json.load(open(sys.argv[1]))["cases"]:
    try:
        out.append(sanitize_filename(c["in"]))
    except HelperError:
        out.append(None)
print(json.dumps(out))
`

describe("the helper's file names", () => {
  it('match the shared vectors, each leaving room for .part.json', () => {
    const cases = (JSON.parse(readFileSync(VECTORS, 'utf8')) as { cases: { out: string | null }[] })
      .cases
    const got = JSON.parse(
      execFileSync('python3', ['-c', PROGRAM, VECTORS], {
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: join(ROOT, 'resources/helper') }
      })
    ) as (string | null)[]
    expect(got).toEqual(cases.map((c) => c.out))
  })
})
