// Text that others wrote (a status file any process on the machine can edit, a
// pod's, a server's names and reasons) reaches the terminal without control
// sequences: no window retitling, no clipboard writes (OSC 52), no bidi
// overrides, whichever command prints it.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, freshComfy, runCli } from '../support/cli'
import { hubAndCdn } from '../support/serverScratch'

/** What must never reach a terminal: C0 but tab/LF, DEL, C1, bidi controls. */
// eslint-disable-next-line no-control-regex -- exactly what the test looks for
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

const OSC52 = '\u001b]52;c;ZWNobyBwd25lZA==\u0007'
const TITLE = '\u001b]0;pwned\u0007'

beforeAll(() => assertBuilt())

async function plantedTarget() {
  const c = freshComfy()
  const env = { PODPULL_HOME: c.home }
  const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', c.comfy], env)
  expect(add.code, add.stderr).toBe(0)
  const key = join(c.models, 'loras', 'evil.safetensors')
  writeFileSync(
    join(c.base, '.download_status.json'),
    JSON.stringify({
      [key]: {
        status: 'error',
        id: 'e1e1e1e1e1e1e1e1',
        url: `https://host.test/f\u009b31m`,
        folder: 'loras',
        filename: `evil${TITLE}\u202egpj.safetensors`,
        progress: 10,
        downloaded: 10,
        file_size: 100,
        timestamp: Date.now() / 1000,
        error: `HTTP 404 Not${TITLE} Found${OSC52}`,
        error_code: 'http'
      }
    })
  )
  return env
}

describe('the CLI prints no control sequences from text others wrote', () => {
  it.each([
    ['status', ['status']],
    ['status --json', ['status', '--json']],
    ['status --json --target (the file as it is)', ['status', '--json', '--target', 'studio']]
  ])('%s', async (_, args) => {
    const env = await plantedTarget()
    const r = await runCli(args, env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('evil')
    expect(r.stdout).not.toMatch(CONTROL)
    expect(r.stderr).not.toMatch(CONTROL)
    if (args.includes('--json')) expect(() => JSON.parse(r.stdout)).not.toThrow()
  })

  it('the raw status file keeps its meaning: the escapes are only written as \\u', async () => {
    const env = await plantedTarget()
    const r = await runCli(['status', '--json', '--target', 'studio'], env)
    const entry = Object.values(JSON.parse(r.stdout) as Record<string, { error: string }>)[0]!
    expect(entry.error).toBe(`HTTP 404 Not${TITLE} Found${OSC52}`)
  })
})

describe('the CLI prints no control sequences from what a hub sends', () => {
  const servers = hubAndCdn()
  let env: NodeJS.ProcessEnv
  beforeAll(() => {
    const { cdn, hub } = servers
    const file = cdn.addFile('/cdn/hostile.safetensors', { size: 20_000, seed: 'hostile' })
    hub.addCivitaiModel({
      id: 900,
      name: `Film${TITLE} Look\u202e`,
      type: `LORA${OSC52}`,
      versions: [
        {
          id: 901,
          name: `v1\u009b31m`,
          baseModel: `SDXL${TITLE}`,
          trainedWords: [`word${OSC52}`],
          files: [{ cdn: file, name: `evil${TITLE}\u202egpj.safetensors` }]
        }
      ]
    })
    env = { HF_ENDPOINT: hub.hfUrl, PODPULL_CIVITAI_ENDPOINT: hub.civitaiUrl }
  })

  it.each([
    ['resolve', ['resolve', 'https://civitai.com/models/900']],
    ['resolve --json', ['resolve', 'https://civitai.com/models/900', '--json']],
    [
      'download (its follow line)',
      ['download', 'https://civitai.com/models/900', '--folder', 'loras']
    ]
  ])('%s', async (_, args) => {
    const c = freshComfy()
    const e = { ...env, PODPULL_HOME: c.home }
    if (args[0] === 'download') {
      const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', c.comfy], e)
      expect(add.code, add.stderr).toBe(0)
      args = [...args, '--target', 'studio']
    }
    const r = await runCli(args, e)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).toContain('evil')
    expect(r.stdout).not.toMatch(CONTROL)
    expect(r.stderr).not.toMatch(CONTROL)
  })
})
