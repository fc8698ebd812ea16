// The type-level tests (*.test-d.ts) are checked by `npm run typecheck`, which
// .ci/run runs, and not again by vitest (that was a second tsc over the same
// program). This proves none of them falls outside that check.
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join, normalize } from 'node:path'
import { expect, it } from 'vitest'

const root = join(__dirname, '../..')

it('every *.test-d.ts file is in the program `npm run typecheck` checks, and CI runs it', () => {
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  const config = JSON.parse(
    execFileSync(process.execPath, [tsc, '--showConfig', '-p', 'tsconfig.node.json'], {
      cwd: root,
      encoding: 'utf8'
    })
  ) as { files: string[] }
  const checked = new Set(config.files.map((f) => normalize(f)))
  const typeTests = readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test-d.ts'))
    .map((f) => normalize(join('test', f)))
  expect(typeTests.length).toBeGreaterThan(0)
  for (const f of typeTests) expect([...checked], f).toContain(f)

  const scripts = (
    JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
  ).scripts
  expect(scripts['typecheck:node']).toMatch(/\btsc --noEmit -p tsconfig\.node\.json\b/)
  expect(scripts.typecheck).toContain('npm run typecheck:node')
  expect(readFileSync(join(root, '.ci/run'), 'utf8')).toMatch(
    /^check typecheck npm run typecheck$/m
  )
})
