// Importing a pod of the RunPod account as a target, as the dashboard does it
// in one click: the pod's current SSH route (direct TCP when it has a public
// port for 22, else RunPod's proxy), a connection test first, and the same
// host-key rule as adding an SSH target — a first-contact key is trusted only
// once the user confirmed its fingerprint (the answer then carries it and no
// target). The helper's probe finds the ComfyUI folder when none is given.
import type { ApiHandlers, ApiParsedArgs } from '../../shared/api'
import type { RunpodImportResult } from '../../shared/runpod'
import { UserError } from '../errors'
import type { RunpodApi } from './runpodApi'

type TargetCalls = Pick<ApiHandlers, 'testConnection' | 'addTarget'>

export async function importRunpodPod(
  api: RunpodApi,
  calls: TargetCalls,
  args: ApiParsedArgs<'runpodImport'>
): Promise<RunpodImportResult> {
  const pod = await api.findPod(args.pod)
  if (pod.status !== 'RUNNING')
    throw new UserError(
      'offline',
      `The pod "${pod.name}" is not running (${pod.status}): start it, then import it.`
    )
  if (!pod.ssh)
    throw new UserError(
      'offline',
      `The pod "${pod.name}" has no SSH access yet: try again in a minute.`
    )
  const input = {
    kind: 'ssh' as const,
    name: args.name ?? pod.name,
    host: pod.ssh.host,
    port: pod.ssh.port,
    user: pod.ssh.user,
    keyPath: args.keyPath,
    secret: args.secret,
    workspace: args.workspace,
    comfyui: args.comfyui,
    runpodPodId: pod.id,
    ...(args.stopWhenDone ? { stopWhenDone: true } : {})
  }
  const via = pod.ssh.via
  if (!args.acceptHostKey) {
    const test = await calls.testConnection(input)
    if (test.needsHostKeyConfirmation) return { target: null, test, via }
    if (!test.ok) throw new UserError('unreachable', test.message)
  }
  const target = await calls.addTarget({ ...input, acceptHostKey: args.acceptHostKey })
  return { target, test: null, via }
}
