// What .ci/run prints as the very last lines of a run: every failed test of
// every chain, named by file and test, with the first lines of its error. The
// tracker shows only the tail of the CI output, so without this a failure in an
// early chain is scrolled away by the later ones. Each reporter writes its
// chain's lines to the file named by PODPULL_TEST_SUMMARY; nothing without it.
import { appendFileSync } from 'node:fs'
import { relative } from 'node:path'
import { stripVTControlCharacters } from 'node:util'

/** The file a reporter writes to, when .ci/run asked for one. */
export const summaryFile = process.env.PODPULL_TEST_SUMMARY

/** How many lines of an error message are kept: enough for an assertion's
 *  expected/received, short enough that many failures still fit the tail. */
const MESSAGE_LINES = 4

export interface ErrorLike {
  name?: string
  message?: string
  stack?: string
}

/** A test's name as `file > suite > test`, the file relative to the repo. */
export function testName(file: string, titles: readonly string[]): string {
  return [relative(process.cwd(), file) || file, ...titles.filter(Boolean)].join(' > ')
}

/** The first lines of an error and the first stack line in the repo's own code
 *  (not node_modules, not node: internals), where the assertion sits. */
export function errorLines(err: ErrorLike | undefined): string[] {
  const named = err?.name && err.name !== 'Error' ? `${err.name}: ` : ''
  const message = named + stripVTControlCharacters(err?.message ?? String(err))
  const lines = message
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim())
  const kept = lines.slice(0, MESSAGE_LINES)
  if (lines.length > MESSAGE_LINES) kept.push(`… (${lines.length - MESSAGE_LINES} more lines)`)
  const frame = stripVTControlCharacters(err?.stack ?? '')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('at ') && !/node_modules|node:/.test(l) && l.includes(process.cwd()))
  if (frame) kept.push(frame.replace(`${process.cwd()}/`, ''))
  return kept.map((l) => `    ${l}`)
}

/** One failure: its name line, then its indented error lines. */
export function failureBlock(name: string, errors: readonly (ErrorLike | undefined)[]): string[] {
  const first = errors.length ? errors : [undefined]
  return [`FAIL ${name}`, ...first.slice(0, 2).flatMap(errorLines)]
}

/** A test that passed but used more than half its time bound: the next to
 *  fail on a slower or busier machine. */
export function slowLine(name: string, ms: number, boundMs: number): string {
  return `SLOW ${name}: ${(ms / 1000).toFixed(1)} s of its ${(boundMs / 1000).toFixed(0)} s bound`
}

/** Appends the lines to the summary file (two vitest processes may share none,
 *  but appending keeps a chain's earlier lines if a tool reports twice). */
export function writeSummary(lines: readonly string[]): void {
  if (summaryFile && lines.length) appendFileSync(summaryFile, `${lines.join('\n')}\n`)
}
