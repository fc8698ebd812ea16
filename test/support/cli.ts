// Runs the built `podpull` CLI as a user would: its own process, its own
// PODPULL_HOME, exit code and output captured. Used by the CLI integration
// tests; the e2e tests have their own copy in test/e2e/serveProcess.ts.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import WebSocket from 'ws'
import { fileURLToPath } from 'node:url'
import { childWithErrorListeners } from './listeners'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const CLI = join(ROOT, 'bin/podpull')

export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'out/main/cli.js'))) {
    throw new Error('The CLI is not built: run "npm run build" before the integration tests.')
  }
}

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return childWithErrorListeners(
    spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
  )
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const p = spawnCli(args, env)
  return collect(p)
}

export function collect(p: ChildProcess): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  p.stdout!.on('data', (d) => (stdout += d))
  p.stderr!.on('data', (d) => (stderr += d))
  return new Promise((res) =>
    p.on('exit', (code, signal) => res({ code: code ?? (signal ? 128 : -1), stdout, stderr }))
  )
}

/** `podpull targets add-local NAME --comfyui DIR`, which must succeed. */
export async function addLocalTarget(
  env: NodeJS.ProcessEnv,
  name: string,
  comfy: string
): Promise<void> {
  const r = await runCli(['targets', 'add-local', name, '--comfyui', comfy], env)
  expect(r.code, r.stderr).toBe(0)
}

/** A fresh ComfyUI folder and PODPULL_HOME. */
export function freshComfy(folders = ['checkpoints', 'loras', 'vae']): {
  base: string
  home: string
  comfy: string
  models: string
} {
  const base = mkdtempSync(join(tmpdir(), 'podpull-cli-'))
  const comfy = join(base, 'ComfyUI')
  const models = join(comfy, 'models')
  for (const f of folders) mkdirSync(join(models, f), { recursive: true })
  const home = join(base, 'home')
  mkdirSync(home)
  return { base, home, comfy, models }
}

/** Minimal client of the headless server's WebSocket API. */
export async function apiClient(
  url: string,
  token: string
): Promise<{ call: (m: string, a?: unknown) => Promise<unknown>; close: () => void }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api?token=${token}`)
  await new Promise((res, rej) => {
    ws.once('open', res)
    // Kept for the socket's life: the server may go away before the test closes it.
    ws.on('error', rej)
  })
  let next = 1
  const pending = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>()
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as {
      t: string
      id: number
      ok: boolean
      v?: unknown
      e?: { code: string; message: string }
    }
    if (msg.t !== 'res') return
    const p = pending.get(msg.id)
    pending.delete(msg.id)
    if (msg.ok) p?.res(msg.v)
    else p?.rej(Object.assign(new Error(msg.e?.message), { code: msg.e?.code }))
  })
  return {
    call: (m, a = {}) =>
      new Promise((res, rej) => {
        const id = next++
        pending.set(id, { res, rej })
        ws.send(JSON.stringify({ t: 'call', id, m, a }))
      }),
    close: () => ws.close()
  }
}
