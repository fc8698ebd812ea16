// The accessibility scan every e2e view check runs: axe-core over the page (or
// one part of it), reporting only serious and critical findings, one line each.
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'

export async function seriousA11yFindings(page: Page, include?: string): Promise<string[]> {
  const builder = new AxeBuilder({ page })
  const scan = await (include ? builder.include(include) : builder).analyze()
  return scan.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}
