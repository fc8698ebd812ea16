// A stand-in for the Electron binary: it does what Electron does with its
// arguments first — takes the app folder (electron-vite passes "."), reads its
// package.json "main" — then records what it was given to a file and exits 0
// instead of opening a window.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface LaunchRecord {
  argv: string[]
  cwd: string
  /** The main script Electron would run. */
  entry: string
  env: Record<string, string>
}

/** The stand-in's source; it writes its record to $PODPULL_STANDIN_RECORD. */
export function standInSource(): string {
  return `#!${process.execPath}
const fs = require('node:fs')
const path = require('node:path')
const app = path.resolve(process.argv[2] ?? '.')
let entry = app
if (fs.statSync(app).isDirectory()) {
  const pkg = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8'))
  entry = path.join(app, pkg.main ?? 'index.js')
}
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(ELECTRON_|NODE_ENV)/.test(k)))
fs.writeFileSync(process.env.PODPULL_STANDIN_RECORD, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), entry, env }))
`
}

/** A folder for ELECTRON_OVERRIDE_DIST_PATH: Electron looks for `electron` in it. */
export function standInDist(): string {
  const dir = mkdtempSync(join(tmpdir(), 'podpull-standin-'))
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'electron'), standInSource(), { mode: 0o755 })
  return dir
}

export function recordFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'podpull-launch-')), 'record.json')
}

export function readRecord(file: string): LaunchRecord | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LaunchRecord) : null
}
