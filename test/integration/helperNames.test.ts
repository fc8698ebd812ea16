// The shared file-name vectors (test/vectors/filenames.json), the helper's
// side: its sanitize_filename gives every name the TypeScript side gives
// (test/unit/fileNameVectors.test.ts), so both engines save a file alike.
import { describe, expect, it } from 'vitest'
import { readVectors, runPythonOnVectors } from '../support/vectors'

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
    const cases = readVectors<{ cases: { out: string | null }[] }>('filenames.json').cases
    const got = runPythonOnVectors<(string | null)[]>(PROGRAM, 'filenames.json')
    expect(got).toEqual(cases.map((c) => c.out))
  })
})
