// The shared plain-text vectors (test/vectors/plaintext.json): the TypeScript
// side. The helper's side reads the same file (test/integration/helperPlainText.test.ts).
import { describe, expect, it } from 'vitest'
import { plainText } from '../../src/shared/plainText'
import { readVectors } from '../support/vectors'

const cases = readVectors<{ cases: { in: string; out: string; oneLine: string }[] }>(
  'plaintext.json'
).cases

describe('text from a server or pod, as both sides keep it', () => {
  it.each(cases.map((c) => [c.in, c.out, c.oneLine] as const))('%j', (input, out, oneLine) => {
    expect(plainText(input)).toBe(out)
    expect(plainText(input, { oneLine: true })).toBe(oneLine)
  })
})
