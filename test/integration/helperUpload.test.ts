// What the app puts on a pod: the built .pyz, byte for byte, at
// <workspace>/.podpull/helper-<sha256 prefix>.pyz, over SFTP and over the PTY
// transport (base64 through a terminal), runnable the way HelperClient runs it;
// another build gets a file of its own instead of overwriting this one.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildHelper, HELPER_PYZ, HELPER_SOURCE } from '../../scripts/build-helper.mjs'
import { HelperClient } from '../../src/main/ssh/helperClient'
import { loadHelper, type HelperFile } from '../../src/main/ssh/helperUpload'
import { PtyTransport } from '../../src/main/ssh/ptyTransport'
import type { SshConnection } from '../../src/main/ssh/sshConnection'
import { ExecTransport, type PodTransport } from '../../src/main/ssh/transport'
import { startSshd, type SshdHarness } from '../harness/sshd'
import { HELPER_VERSION } from '../conformance/helperDriver'
import { sshdConnection } from '../support/sshdConnection'

let sshd: SshdHarness
let root: string
const conns: SshConnection[] = []

beforeAll(async () => {
  sshd = await startSshd()
  root = mkdtempSync(join(tmpdir(), 'podpull-upload-'))
})
afterAll(async () => {
  for (const c of conns) c.close()
  await sshd?.close()
  rmSync(root, { recursive: true, force: true })
})

function connection(): SshConnection {
  const c = sshdConnection(sshd)
  conns.push(c)
  return c
}

function workspace(name: string): string {
  const ws = join(root, name)
  mkdirSync(ws, { recursive: true })
  return ws
}

/** A second build: the same package with another version line, so other bytes. */
function otherBuild(): HelperFile {
  const src = join(root, 'other-src')
  cpSync(HELPER_SOURCE, src, { recursive: true })
  const init = join(src, 'podpull_helper', '__init__.py')
  writeFileSync(
    init,
    readFileSync(init, 'utf8').replace(/^HELPER_VERSION = .*$/m, 'HELPER_VERSION = "9.9.9"')
  )
  const pyz = join(root, 'other.pyz')
  writeFileSync(pyz, buildHelper(src))
  return loadHelper(pyz)
}

const transports: [string, () => Promise<PodTransport>][] = [
  ['SFTP', async () => new ExecTransport(await connected())],
  ['the PTY transport', async () => new PtyTransport(await connected(), connection)]
]

async function connected(): Promise<SshConnection> {
  const c = connection()
  await c.connect()
  return c
}

describe.each(transports)('helper upload over %s', (name, open) => {
  it('sends the built .pyz, named by its sha256, and it answers as the app calls it', async () => {
    const helper = loadHelper()
    expect(helper.path).toBe(HELPER_PYZ)
    expect(helper.version).toBe(HELPER_VERSION)
    const ws = workspace(name.replace(/\W/g, ''))
    const t = await open()
    try {
      const first = await t.ensureHelper(ws, helper)
      expect(first).toEqual({
        remotePath: join(ws, '.podpull', `helper-${helper.sha256.slice(0, 16)}.pyz`),
        uploaded: true
      })
      expect(readFileSync(first.remotePath).equals(readFileSync(HELPER_PYZ))).toBe(true)
      expect(await t.ensureHelper(ws, helper)).toEqual({ ...first, uploaded: false })

      const probe = await new HelperClient(t, first.remotePath).call('probe', { workspace: ws })
      expect(probe).toMatchObject({ helper_version: HELPER_VERSION, workspace: ws })

      const other = otherBuild()
      const second = await t.ensureHelper(ws, other)
      expect(second.uploaded).toBe(true)
      expect(second.remotePath).not.toBe(first.remotePath)
      expect(readFileSync(first.remotePath).equals(helper.content)).toBe(true)
      const probe2 = await new HelperClient(t, second.remotePath).call('probe', { workspace: ws })
      expect(probe2).toMatchObject({ helper_version: '9.9.9' })
    } finally {
      t.close()
    }
  })
})
