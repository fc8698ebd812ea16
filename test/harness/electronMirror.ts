// A loopback stand-in for Electron's release mirror (ELECTRON_MIRROR), laid out
// as @electron/get asks for it: <mirror>v<version>/electron-v<version>-<platform>-<arch>.zip
// and SHASUMS256.txt beside it (read with electron_use_remote_checksums set).
// The zip holds a stand-in binary, so Electron's own installer can run here
// end to end without the internet.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface ElectronMirror {
  /** For ELECTRON_MIRROR (ends with a slash, as @electron/get expects). */
  url: string
  /** Paths asked for, in order. */
  requests: string[]
  close(): Promise<void>
}

/** A zip of `files` (name → [content, mode]), made with Python's zipfile,
 *  which CI has anyway and which records each file's mode. */
function zipOf(files: Record<string, [string, number]>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'podpull-mirror-'))
  const out = join(dir, 'artifact.zip')
  const script = [
    'import json, sys, zipfile',
    'files = json.loads(sys.argv[2])',
    "with zipfile.ZipFile(sys.argv[1], 'w') as z:",
    '    for name, (text, mode) in files.items():',
    '        info = zipfile.ZipInfo(name)',
    '        info.external_attr = (0o100000 | mode) << 16',
    '        z.writestr(info, text)'
  ].join('\n')
  execFileSync('/usr/bin/python3', ['-c', script, out, JSON.stringify(files)])
  return readFileSync(out)
}

export async function startElectronMirror(opts: {
  version: string
  files: Record<string, [string, number]>
}): Promise<ElectronMirror> {
  const name = `electron-v${opts.version}-${process.platform}-${process.arch}.zip`
  const zip = zipOf(opts.files)
  const sums = `${createHash('sha256').update(zip).digest('hex')} *${name}\n`
  const routes = new Map<string, Buffer>([
    [`/v${opts.version}/${name}`, zip],
    [`/v${opts.version}/SHASUMS256.txt`, Buffer.from(sums)]
  ])
  const requests: string[] = []
  const server = createServer((req, res) => {
    requests.push(req.url ?? '')
    const body = routes.get(req.url ?? '')
    res.on('error', () => undefined)
    if (!body) return void res.writeHead(404).end()
    res.writeHead(200, { 'content-length': body.length }).end(body)
  })
  server.on('clientError', (_err, socket) => socket.destroy())
  await new Promise<void>((res, rej) => {
    server.once('error', rej)
    server.listen(0, '127.0.0.1', res)
  })
  server.on('error', () => undefined)
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((res) => server.close(() => res()))
  }
}
