// nginx on loopback for the bench's HTTPS rows: a throw-away self-signed
// certificate, a root of generated model files, and a `/throttled/` location
// serving the same files at a fixed rate per connection (like a CDN edge that
// caps each connection, where several connections pay off). Clients trust the
// certificate for their own process only (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE,
// curl --cacert, aria2c --ca-certificate).
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync
} from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sliceAt } from '../test/harness/content'
import { makeSelfSignedCert, type SelfSignedCert } from '../test/harness/selfSignedCert'

export interface NginxFile {
  url: string
  throttledUrl: string
  size: number
  sha256: string
}

export interface Nginx {
  cert: SelfSignedCert
  /** Writes a generated file of `size` bytes under the root. */
  addFile: (name: string, size: number, seed: string) => NginxFile
  removeFile: (name: string) => void
  close: () => Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
  })
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })
}

export async function startNginx(perConnectionBps: number): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'podpull-nginx-'))
  const root = join(dir, 'www')
  mkdirSync(root)
  // Started as root, nginx's workers run as `nobody`: they must be able to read the files.
  chmodSync(dir, 0o755)
  const cert = makeSelfSignedCert()
  const port = await freePort()
  const temp = ['client', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `${t === 'client' ? 'client_body' : t}_temp_path ${join(dir, t)};`)
    .join('\n  ')
  const conf = `
worker_processes 2;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')};
events { worker_connections 512; }
http {
  access_log off;
  ${temp}
  sendfile on;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert.certPath};
    ssl_certificate_key ${cert.keyPath};
    root ${root};
    location /throttled/ { alias ${root}/; limit_rate ${perConnectionBps}; }
  }
}
`
  writeFileSync(join(dir, 'nginx.conf'), conf)
  const proc: ChildProcess = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], {
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let err = ''
  proc.stderr!.on('data', (d) => (err += d))
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  for (let i = 0; !(await answers(port)); i++) {
    if (proc.exitCode !== null || i > 200) throw new Error(`nginx did not start: ${err}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const base = `https://127.0.0.1:${port}`
  return {
    cert,
    addFile(name, size, seed) {
      const h = createHash('sha256')
      const fd = openSync(join(root, name), 'w')
      try {
        for (let o = 0; o < size;) {
          const part = sliceAt(seed, o, size - o)
          writeSync(fd, part)
          h.update(part)
          o += part.length
        }
      } finally {
        closeSync(fd)
      }
      return {
        url: `${base}/${name}`,
        throttledUrl: `${base}/throttled/${name}`,
        size,
        sha256: h.digest('hex')
      }
    },
    removeFile: (name) => rmSync(join(root, name), { force: true }),
    async close() {
      proc.kill('SIGTERM')
      await exited
      cert.remove()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
