// The layer allow-list in eslint.config.js really fails a wrong-way import
// (and lets the right way through): a scratch file placed in a layer is linted
// with the project's own config, as `npm run lint` would lint it.
import { ESLint } from 'eslint'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(__dirname, '../..')
const eslint = new ESLint({ cwd: root })

/** The layer rule's messages for `import ... from '<from>'` in a file at src/<dir>/<file>. */
async function layerMessages(
  dir: string,
  from: string,
  file = '__layer_scratch.ts'
): Promise<string[]> {
  const code = `import type { X } from '${from}'\nexport type Y = X\n`
  const filePath = join(root, 'src', dir, file)
  const [result] = await eslint.lintText(code, { filePath })
  return result!.messages.filter((m) => m.ruleId === 'podpull/layers').map((m) => m.message)
}

describe('layers: each names what it may import (eslint podpull/layers)', () => {
  it.each([
    // Folders that had a rule before the allow-list.
    ['main/engine', '../status/statusFile', 'main/status'],
    ['main/engine', '../targets/target', 'main/targets'],
    ['main/ssh', '../targets/target', 'main/targets'],
    ['main/sources', '../targets/pod/podTarget', 'main/targets'],
    ['main/targets', '../core/podpullCore', 'main/core'],
    ['main/electron', '../headless/server', 'main/headless'],
    // Folders that had none.
    ['main/models', '../sources/tokens', 'main/sources'],
    ['main/status', '../targets/local/localTarget', 'main/targets'],
    ['main/settings', '../core/podpullCore', 'main/core'],
    ['main/core', '../api/handlers', 'main/api'],
    ['main/api', '../electron/ipc', 'main/electron'],
    ['main/headless', '../electron/ipc', 'main/electron'],
    ['main/runpod', '../api/handlers', 'main/api'],
    ['main/diagnostics', '../app', 'main/app'],
    ['main/ssh', '../core/podpullCore', 'main/core'],
    ['main/targets/local', '../../runpod/runpodApi', 'main/runpod'],
    ['shared', '../main/errors', 'main/errors'],
    ['renderer', '../main/api/handlers', 'main/api'],
    ['preload', '../main/electron/ipc', 'main/electron'],
    ['cli', '../main/targets/target', 'main/targets']
  ])('src/%s may not import %s', async (dir, from, to) => {
    const messages = await layerMessages(dir, from)
    expect(messages).toHaveLength(1)
    const layer = dir.startsWith('main/') ? dir.split('/').slice(0, 2).join('/') : dir
    expect(messages[0]).toContain(`src/${layer} may not import src/${to}: `)
    expect(messages[0]).toMatch(/It may import: /)
  })

  it('a root file of src/main imports by its own entry too', async () => {
    const [message] = await layerMessages('main', './headless/server', 'errors.ts')
    expect(message).toMatch(/^src\/main\/errors may not import src\/main\/headless: /)
  })

  it('a folder of src/main that is not in the table fails until it names its imports', async () => {
    const [message] = await layerMessages('main/newFolder', '../errors')
    expect(message).toMatch(/src\/main\/newFolder is not in the layer table/)
  })

  it.each([
    ['main/engine', '../errors'],
    ['main/engine', '../../shared/types'],
    ['main/targets', '../engine/types'],
    ['main/targets/pod', '../../ssh/helperClient'],
    ['main/targets/local', '../target'],
    ['main/sources', '../models/folders'],
    ['main/ssh', '../resourcePaths'],
    ['main/electron', '../api/eventSource'],
    ['main/core', '../targets/target'],
    ['main/api', '../runpod/runpodHandlers'],
    ['renderer/stores', '../../shared/api'],
    ['cli', '../main/app'],
    ['main/models', 'node:path'],
    ['main/core', '../../../package.json']
  ])('src/%s may import %s', async (dir, from) => {
    expect(await layerMessages(dir, from)).toEqual([])
  })
})
