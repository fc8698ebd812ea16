// The one error vocabulary (src/shared/errorCodes.ts) is the one everybody
// uses: the pod helper emits no other code, docs/formats.md documents exactly
// these, the CLI maps them to its exit codes, and main's sources throw no
// string the list does not hold.
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERROR_CODE_LIST, ERROR_CODES, isUsageError } from '../../src/shared/errorCodes'

const root = join(__dirname, '../..')
const helperPackage = join(root, 'resources/helper/podpull_helper')

/** Every literal code in the helper: HelperError's first argument, `code`/`error_code` values. */
const HELPER_CODES_PY = `
import ast, json, sys
found = set()
def lit(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        found.add(node.value)
trees = [ast.parse(open(f).read()) for f in sys.argv[1:]]
for n in (x for t in trees for x in ast.walk(t)):
    if isinstance(n, ast.Call):
        name = getattr(n.func, "id", getattr(n.func, "attr", None))
        if name == "HelperError" and n.args:
            lit(n.args[0])
        for k in n.keywords:
            if k.arg in ("code", "error_code"):
                lit(k.value)
    elif isinstance(n, ast.Dict):
        for k, v in zip(n.keys, n.values):
            if isinstance(k, ast.Constant) and k.value in ("code", "error_code"):
                lit(v)
    elif isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Subscript):
        s = n.targets[0].slice
        if isinstance(s, ast.Constant) and s.value in ("code", "error_code"):
            lit(n.value)
print(json.dumps(sorted(found)))
`

function helperCodes(): string[] {
  const files = readdirSync(helperPackage)
    .filter((n) => n.endsWith('.py'))
    .map((n) => join(helperPackage, n))
  const out = execFileSync('python3', ['-c', HELPER_CODES_PY, ...files], { encoding: 'utf8' })
  return JSON.parse(out) as string[]
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    if (statSync(p).isDirectory()) return sourceFiles(p)
    return /\.(ts|vue)$/.test(n) ? [p] : []
  })
}

describe('one error vocabulary', () => {
  it('the pod helper emits only listed codes', () => {
    const codes = helperCodes()
    // The scan itself works: it sees the codes the helper is known to use.
    expect(codes).toEqual(expect.arrayContaining(['bad-request', 'auth', 'html', 'stale']))
    expect(codes.filter((c) => !ERROR_CODE_LIST.includes(c as never))).toEqual([])
  })

  it('main throws no code literal that is not listed', () => {
    const thrown = new Set<string>()
    // The renderer's form errors name a field, not a code: only what main,
    // the CLI and the shared contract throw is scanned.
    const dirs = ['main', 'cli', 'shared'].map((d) => join(root, 'src', d))
    for (const f of dirs.flatMap(sourceFiles)) {
      const text = readFileSync(f, 'utf8')
      const re = /new (?:\w*Error)\(\s*'([a-z-]+)'/g
      for (const m of text.matchAll(re)) thrown.add(m[1]!)
    }
    expect(thrown.size).toBeGreaterThan(10)
    expect([...thrown].filter((c) => !ERROR_CODE_LIST.includes(c as never))).toEqual([])
  })

  it('docs/formats.md documents exactly the listed codes', () => {
    const doc = readFileSync(join(root, 'docs/formats.md'), 'utf8')
    const section = doc.split(/^## Error codes$/m)[1]?.split(/^## /m)[0] ?? ''
    const documented = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1])
    expect(documented.sort()).toEqual([...ERROR_CODE_LIST].sort())
  })

  it('the CLI exits 2 for a caller mistake and 1 for a failure', () => {
    expect(isUsageError('bad-request')).toBe(true)
    expect(isUsageError('unsafe-path')).toBe(true)
    expect(isUsageError('no-space')).toBe(false)
    expect(isUsageError('html')).toBe(false)
    // An unknown code (a crash) is a failure, never "bad usage".
    expect(isUsageError('ENOENT')).toBe(false)
    expect(Object.values(ERROR_CODES).every((c) => c.means.length > 0)).toBe(true)
  })
})
