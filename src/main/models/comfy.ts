// Finding ComfyUI installs: a ComfyUI folder is one with a models/ folder.
import { existsSync, readFileSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { findComfyInstalls as probeInstalls } from './comfyInstalls'

export async function isComfyInstall(dir: string): Promise<boolean> {
  const s = await stat(join(dir, 'models')).catch(() => null)
  return Boolean(s?.isDirectory())
}

/** The usual places, in order: the user's home, ComfyUI Desktop's default
 *  (Documents/ComfyUI), and the pod layouts (for a workstation that mounts one). */
export function comfyCandidates(home = homedir()): string[] {
  return [
    join(home, 'ComfyUI'),
    join(home, 'Documents', 'ComfyUI'),
    join(home, 'comfy', 'ComfyUI'),
    join(home, 'src', 'ComfyUI'),
    '/workspace/ComfyUI',
    '/workspace/runpod-slim/ComfyUI',
    '/opt/ComfyUI'
  ]
}

/** The installs the apps ComfyUI users have put on this machine (Desktop's
 *  configured base path, the Windows portable build, Stability Matrix). */
function appInstalls(): string[] {
  return probeInstalls({
    platform: process.platform,
    home: homedir(),
    env: process.env,
    exists: existsSync,
    readFile: (p) => {
      try {
        return readFileSync(p, 'utf8')
      } catch {
        return null
      }
    }
  }).map((c) => c.path)
}

export async function findComfyInstalls(
  candidates = [...new Set([...appInstalls(), ...comfyCandidates()])]
): Promise<string[]> {
  const found = await Promise.all(
    candidates.map(async (c) => ((await isComfyInstall(c)) ? c : null))
  )
  return found.filter((c): c is string => c !== null)
}
