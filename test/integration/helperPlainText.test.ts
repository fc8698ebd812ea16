// The shared plain-text vectors (test/vectors/plaintext.json), the helper's
// side: what it stores from a server or hub loses the same control and bidi
// characters the app's plainText drops (test/unit/plainTextVectors.test.ts).
import { describe, expect, it } from 'vitest'
import { readVectors, runPythonOnVectors } from '../support/vectors'

const PROGRAM = `
import json, sys
from podpull_helper.plaintext import plain_text
cases = json.load(open(sys.argv[1]))["cases"]
print(json.dumps([[plain_text(c["in"]), plain_text(c["in"], one_line=True)] for c in cases]))
`

describe("the helper's plain text", () => {
  it('matches the shared vectors', () => {
    const cases = readVectors<{ cases: { out: string; oneLine: string }[] }>('plaintext.json').cases
    const got = runPythonOnVectors<[string, string][]>(PROGRAM, 'plaintext.json')
    expect(got).toEqual(cases.map((c) => [c.out, c.oneLine]))
  })
})
