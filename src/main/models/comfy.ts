// Finding ComfyUI installs: a ComfyUI folder is one with a models/ folder.
import { stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'

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

export async function findComfyInstalls(candidates = comfyCandidates()): Promise<string[]> {
  const found = await Promise.all(
    candidates.map(async (c) => ((await isComfyInstall(c)) ? c : null))
  )
  return found.filter((c): c is string => c !== null)
}
