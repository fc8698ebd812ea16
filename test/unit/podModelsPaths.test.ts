// A pod's extra_model_paths.yaml is read with the pod's own home and the
// variables its base paths name, as the helper reports them: ComfyUI runs
// there and expands them there. The inventory is then asked for the expanded
// roots, and a path line ComfyUI would take literally comes back as a warning.
import { describe, expect, it } from 'vitest'
import { PodModels } from '../../src/main/targets/pod/podModels'
import type { HelperClient } from '../../src/main/ssh/helperClient'

function fakeHelper(answers: Record<string, object>, calls: [string, unknown][]): HelperClient {
  return {
    call: async (command: string, req: unknown) => {
      calls.push([command, req])
      return answers[command] ?? {}
    }
  } as unknown as HelperClient
}

const yaml = [
  'pod:',
  '    base_path: $MODELS_DISK/comfy',
  '    is_default: yes',
  '    loras: loras/',
  '    vae: $MODELS_DISK/vae',
  'mine:',
  '    base_path: ~/shared',
  '    checkpoints: ckpt',
  ''
].join('\n')

describe('pod extra_model_paths.yaml', () => {
  it("expands base_path with the pod's home and variables, and asks the inventory for those roots", async () => {
    const calls: [string, unknown][] = []
    const helper = fakeHelper(
      {
        'extra-paths': { text: yaml, home: '/home/pod', env: { MODELS_DISK: '/mnt/disk' } },
        inventory: { models: [], partials: [] }
      },
      calls
    )
    const m = new PodModels({
      helper: async () => helper,
      modelsDir: async () => '/data/ComfyUI/models',
      workspace: '/data'
    })
    const inv = await m.installed()
    expect(inv.extraRoots).toEqual([
      { folder: 'loras', dir: '/mnt/disk/comfy/loras' },
      { folder: 'vae', dir: '/mnt/disk/comfy/$MODELS_DISK/vae' },
      { folder: 'checkpoints', dir: '/home/pod/shared/ckpt' }
    ])
    expect(inv.warning).toMatch(/only in base_path/)
    expect(calls.find(([c]) => c === 'inventory')![1]).toMatchObject({
      models_dir: '/data/ComfyUI/models',
      roots: [
        expect.objectContaining({ folder: 'loras', dir: '/mnt/disk/comfy/loras' }),
        expect.anything(),
        expect.anything()
      ]
    })
    // is_default: yes counts: a LoRA download goes to the expanded folder.
    expect(await m.directoryFor('loras/flux')).toEqual({
      dir: '/mnt/disk/comfy/loras/flux',
      extra: true
    })
  })
})
