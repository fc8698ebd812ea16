// A file of this computer pushed to a pod: which file, into which folder and
// under which name. The transfer itself is the pod target's (targets/pod/podPush.ts).
import { stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import type { ApiHandlers } from '../../shared/api'
import { listsFile } from '../../shared/modelFiles'
import type { PodPullCore } from '../core/podpullCore'
import { UserError } from '../errors'
import { folderFromPath } from '../models/folders'

export function pushHandlers(core: PodPullCore): Pick<ApiHandlers, 'pushFile'> {
  return {
    pushFile: async ({ targetId, file, folder, filename, overwrite }) => {
      const target = core.target(targetId)
      if (!target.push)
        throw new UserError(
          'bad-request',
          `"${target.info().name}" is a folder on this computer; files are pushed to pods.`
        )
      const st = await stat(file).catch(() => null)
      if (!st?.isFile()) throw new UserError('not-found', `${file} is not a file on this computer.`)
      const into = folder ?? folderFromPath(dirname(file).replace(/\\/g, '/') + '/x')
      if (!into)
        throw new UserError(
          'bad-request',
          `Choose the models folder for ${basename(file)} (e.g. --folder loras).`
        )
      const name = filename ?? basename(file)
      // Only what ComfyUI would list there: a push never carries other files off.
      if (!listsFile(into.split('/')[0]!, name))
        throw new UserError(
          'bad-request',
          `${name} is not a model file ComfyUI lists in ${into}; only model files are pushed.`
        )
      return target.push({
        file,
        folder: into,
        filename: name,
        ...(overwrite ? { overwrite } : {})
      })
    }
  }
}
