// Where ComfyUI users already have ComfyUI, for the first run: a plain
// ~/ComfyUI, ComfyUI Desktop's base path (from its config.json in the app-data
// folder), the Windows portable build, and Stability Matrix's package folder.
// Pure: the platform, home, environment and file access come in, so every OS
// layout can be tested on any machine.
import { posix, win32 } from 'node:path'

export interface ComfyProbe {
  platform: NodeJS.Platform
  home: string
  env: Record<string, string | undefined>
  exists: (path: string) => boolean
  readFile: (path: string) => string | null
}

export interface ComfyCandidate {
  path: string
  /** Which kind of install it was found as, for the offer's wording. */
  kind: 'folder' | 'desktop' | 'portable' | 'stability-matrix'
}

/** Per-user app-data folder: where Electron apps (and Stability Matrix) keep config. */
function appData(p: ComfyProbe): string {
  const path = p.platform === 'win32' ? win32 : posix
  if (p.platform === 'win32') return p.env.APPDATA ?? path.join(p.home, 'AppData', 'Roaming')
  if (p.platform === 'darwin') return path.join(p.home, 'Library', 'Application Support')
  return p.env.XDG_CONFIG_HOME ?? path.join(p.home, '.config')
}

function desktopBasePath(p: ComfyProbe, dir: string): string | null {
  const text = p.readFile((p.platform === 'win32' ? win32 : posix).join(dir, 'config.json'))
  if (!text) return null
  try {
    const base = (JSON.parse(text) as { basePath?: unknown }).basePath
    return typeof base === 'string' && base ? base : null
  } catch {
    return null // a half-written or foreign config is no install
  }
}

function guesses(p: ComfyProbe): ComfyCandidate[] {
  const path = p.platform === 'win32' ? win32 : posix
  const data = appData(p)
  const out: ComfyCandidate[] = [{ path: path.join(p.home, 'ComfyUI'), kind: 'folder' }]
  const desktop = desktopBasePath(p, path.join(data, 'ComfyUI'))
  if (desktop) out.push({ path: desktop, kind: 'desktop' })
  if (p.platform === 'win32') {
    const drive = p.env.SystemDrive ?? 'C:'
    for (const parent of [
      `${drive}\\`,
      p.home,
      path.join(p.home, 'Desktop'),
      path.join(p.home, 'Downloads')
    ])
      out.push({ path: path.join(parent, 'ComfyUI_windows_portable', 'ComfyUI'), kind: 'portable' })
  }
  out.push({
    path: path.join(data, 'StabilityMatrix', 'Packages', 'ComfyUI'),
    kind: 'stability-matrix'
  })
  return out
}

/** The ComfyUI folders that exist (they have a models/ folder), each once. */
export function findComfyInstalls(p: ComfyProbe): ComfyCandidate[] {
  const path = p.platform === 'win32' ? win32 : posix
  const seen = new Set<string>()
  return guesses(p).filter((c) => {
    const key = p.platform === 'win32' ? c.path.toLowerCase() : c.path
    if (seen.has(key) || !p.exists(path.join(c.path, 'models'))) return false
    seen.add(key)
    return true
  })
}
