// Playwright reporter for .ci/run's closing summary (see summary.ts): tests
// that did not end as expected, errors outside any test, and tests that passed
// using more than half their time bound.
import type { Reporter, TestCase, TestError, TestResult } from '@playwright/test/reporter'
import { failureBlock, slowLine, testName, writeSummary } from './summary'

function caseName(test: TestCase): string {
  // titlePath is ['', project, file, ...suites, test]: the file is named by location.
  return `[e2e] ${testName(test.location.file, test.titlePath().slice(3))}`
}

export default class PlaywrightSummary implements Reporter {
  private readonly failed: string[] = []
  private readonly slow: string[] = []

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status !== test.expectedStatus) {
      this.failed.push(...failureBlock(`${caseName(test)} (${result.status})`, result.errors))
    } else if (result.status === 'passed' && test.timeout && result.duration > test.timeout / 2) {
      this.slow.push(slowLine(caseName(test), result.duration, test.timeout))
    }
  }

  onError(error: TestError): void {
    this.failed.push(...failureBlock('[e2e] error outside any test', [error]))
  }

  onEnd(): void {
    writeSummary([...this.failed, ...this.slow])
  }
}
