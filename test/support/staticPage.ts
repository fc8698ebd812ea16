// A stand-in for out/renderer: a temp folder with an index.html, for tests of
// `podpull serve` that do not need the built dashboard.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export function staticPageDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'podpull-static-'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>PodPull</title>')
  return dir
}
