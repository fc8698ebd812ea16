// The layer rules in eslint.config.js really fail a wrong-way import (and let
// the right way through): a scratch file placed in each folder is linted with
// the project's own config, as `npm run lint` would lint it.
import { ESLint } from 'eslint'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(__dirname, '../..')
const eslint = new ESLint({ cwd: root })

async function restricted(folder: string, from: string): Promise<string[]> {
  const code = `import type { X } from '${from}'\nexport type Y = X\n`
  const filePath = join(root, 'src/main', folder, '__layer_scratch.ts')
  const [result] = await eslint.lintText(code, { filePath })
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

describe('layers point one way (eslint no-restricted-imports)', () => {
  it.each([
    ['engine', '../status/statusFile'],
    ['engine', '../targets/target'],
    ['ssh', '../targets/target'],
    ['sources', '../targets/pod/podTarget'],
    ['models', '../targets/local/localTarget'],
    ['targets', '../core/podpullCore'],
    ['electron', '../headless/server']
  ])('src/main/%s may not import %s', async (folder, from) => {
    const messages = await restricted(folder, from)
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatch(new RegExp(`src/main/${folder}/ must not import`))
  })

  it.each([
    ['engine', '../errors'],
    ['targets', '../engine/types'],
    ['ssh', '../errors'],
    ['electron', '../api/eventSource'],
    ['core', '../targets/target']
  ])('src/main/%s may import %s', async (folder, from) => {
    expect(await restricted(folder, from)).toEqual([])
  })
})
