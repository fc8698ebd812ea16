// Vitest reporter for .ci/run's closing summary (see summary.ts): failed tests,
// errors of a whole file (a hook or an import that threw), errors outside any
// test (an 'error' event nobody listened to fails the run with every test
// green), and tests that passed using more than half their time bound.
import type { Reporter, SerializedError, TestCase, TestModule } from 'vitest/node'
import { failureBlock, slowLine, testName, writeSummary } from './summary'

function caseName(t: TestCase): string {
  const titles: string[] = []
  for (let p: TestCase['parent'] | TestCase = t; p.type !== 'module'; p = p.parent)
    titles.unshift(p.name)
  return `[${t.project.name}] ${testName(t.module.moduleId, titles)}`
}

function moduleLines(m: TestModule): string[] {
  const lines: string[] = []
  const errors = m.errors()
  if (errors.length)
    lines.push(
      ...failureBlock(`[${m.project.name}] ${testName(m.moduleId, ['(the file itself)'])}`, errors)
    )
  for (const t of m.children.allTests()) {
    const result = t.result()
    if (result.state === 'failed') lines.push(...failureBlock(caseName(t), result.errors))
  }
  return lines
}

function slowLines(m: TestModule): string[] {
  const lines: string[] = []
  for (const t of m.children.allTests('passed')) {
    const ms = t.diagnostic()?.duration ?? 0
    const bound = t.options.timeout
    if (bound && ms > bound / 2) lines.push(slowLine(caseName(t), ms, bound))
  }
  return lines
}

function unhandledLines(errors: readonly SerializedError[]): string[] {
  return errors.flatMap((e) => {
    const where = [e.VITEST_TEST_PATH, e.VITEST_TEST_NAME].filter((s) => typeof s === 'string')
    const name = where.length
      ? `while ${testName(String(where[0]), where.slice(1) as string[])} ran`
      : 'outside any test'
    return failureBlock(`unhandled error ${name}`, [e])
  })
}

export default class VitestSummary implements Reporter {
  onTestRunEnd(modules: readonly TestModule[], unhandled: readonly SerializedError[]): void {
    writeSummary([
      ...modules.flatMap(moduleLines),
      ...unhandledLines(unhandled),
      ...modules.flatMap(slowLines)
    ])
  }
}
