// A throw-away self-signed certificate for 127.0.0.1 and localhost, made with
// the system's `openssl` at test time, for the loopback HTTPS servers (the
// model server's `tls` option, nginx in the bench). Clients trust it through
// NODE_EXTRA_CA_CERTS (Node) or SSL_CERT_FILE (OpenSSL: Python, curl) set for
// their process only.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface SelfSignedCert {
  key: string
  cert: string
  keyPath: string
  certPath: string
  remove: () => void
}

export function makeSelfSignedCert(): SelfSignedCert {
  const dir = mkdtempSync(join(tmpdir(), 'podpull-cert-'))
  const keyPath = join(dir, 'key.pem')
  const certPath = join(dir, 'cert.pem')
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        keyPath,
        '-out',
        certPath
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] }
    )
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`openssl could not make a test certificate (is openssl installed?): ${err}`)
  }
  return {
    key: readFileSync(keyPath, 'utf8'),
    cert: readFileSync(certPath, 'utf8'),
    keyPath,
    certPath,
    remove: () => rmSync(dir, { recursive: true, force: true })
  }
}
