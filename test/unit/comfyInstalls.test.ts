// First run finds ComfyUI where each OS's users have it, from a fake file
// system per layout: Linux, macOS and Windows paths, configs and env.
import { describe, expect, it } from 'vitest'
import { findComfyInstalls, type ComfyProbe } from '../../src/main/models/comfyInstalls'

function probe(
  platform: NodeJS.Platform,
  home: string,
  dirs: string[],
  files: Record<string, string> = {},
  env: Record<string, string> = {}
): ComfyProbe {
  return {
    platform,
    home,
    env,
    exists: (p) => dirs.includes(p),
    readFile: (p) => files[p] ?? null
  }
}

describe('finding ComfyUI installs', () => {
  it('Linux: ~/ComfyUI, Desktop config under XDG, Stability Matrix in ~/.config', () => {
    const found = findComfyInstalls(
      probe(
        'linux',
        '/home/ann',
        [
          '/home/ann/ComfyUI/models',
          '/data/comfy/models',
          '/home/ann/.config/StabilityMatrix/Packages/ComfyUI/models'
        ],
        { '/home/ann/.config/ComfyUI/config.json': JSON.stringify({ basePath: '/data/comfy' }) }
      )
    )
    expect(found).toEqual([
      { path: '/home/ann/ComfyUI', kind: 'folder' },
      { path: '/data/comfy', kind: 'desktop' },
      { path: '/home/ann/.config/StabilityMatrix/Packages/ComfyUI', kind: 'stability-matrix' }
    ])
  })

  it('macOS: ComfyUI Desktop keeps config.json in Application Support', () => {
    const support = '/Users/bo/Library/Application Support'
    const found = findComfyInstalls(
      probe('darwin', '/Users/bo', ['/Users/bo/Documents/ComfyUI/models'], {
        [`${support}/ComfyUI/config.json`]: '{"basePath":"/Users/bo/Documents/ComfyUI"}'
      })
    )
    expect(found).toEqual([{ path: '/Users/bo/Documents/ComfyUI', kind: 'desktop' }])
  })

  it('Windows: portable build, Desktop under %APPDATA%, Stability Matrix; case-blind de-dup', () => {
    const appData = 'C:\\Users\\Cy\\AppData\\Roaming'
    const found = findComfyInstalls(
      probe(
        'win32',
        'C:\\Users\\Cy',
        [
          'C:\\Users\\Cy\\Downloads\\ComfyUI_windows_portable\\ComfyUI\\models',
          'D:\\AI\\ComfyUI\\models',
          `${appData}\\StabilityMatrix\\Packages\\ComfyUI\\models`
        ],
        {
          [`${appData}\\ComfyUI\\config.json`]: JSON.stringify({ basePath: 'D:\\AI\\ComfyUI' })
        },
        { APPDATA: appData }
      )
    )
    expect(found).toEqual([
      { path: 'D:\\AI\\ComfyUI', kind: 'desktop' },
      { path: 'C:\\Users\\Cy\\Downloads\\ComfyUI_windows_portable\\ComfyUI', kind: 'portable' },
      { path: `${appData}\\StabilityMatrix\\Packages\\ComfyUI`, kind: 'stability-matrix' }
    ])
  })

  it('ignores folders without models/, broken configs and a base path found twice', () => {
    const found = findComfyInstalls(
      probe('linux', '/home/d', ['/home/d/ComfyUI/models', '/home/d/.config/ComfyUI'], {
        '/home/d/.config/ComfyUI/config.json': '{"basePath":"/home/d/ComfyUI"}'
      })
    )
    expect(found).toEqual([{ path: '/home/d/ComfyUI', kind: 'folder' }])
    const broken = probe('linux', '/home/e', [], { '/home/e/.config/ComfyUI/config.json': '{' })
    expect(findComfyInstalls(broken)).toEqual([])
  })
})
