// The network-volume part of the handler table: list the account's volumes,
// add one as a target, fill it through a CPU pod (the plan and its cost
// first, the pod only once the user agreed), remove the pod when its queue
// is done, and reconcile the recorded fill pods with the API at every start.
import type { ApiHandlers } from '../../shared/api'
import type { RunpodVolume } from '../../shared/runpod'
import { ACTIVE_STATES, type SshTargetConfig } from '../../shared/types'
import type { PodPullCore } from '../core/podpullCore'
import { UserError } from '../errors'
import { fillPlan } from './fillPodRequest'
import { DEFAULT_MAX_HOURS, FillPods } from './fillPods'
import type { RunpodApi } from './runpodApi'
import { VolumeTarget } from './volumeTarget'

type VolumeHandlers = Pick<
  ApiHandlers,
  'runpodVolumes' | 'runpodAddVolume' | 'runpodFill' | 'runpodFillDone' | 'runpodReconcile'
>

/** A volume by id, else by its unique name. */
function pickVolume(volumes: RunpodVolume[], idOrName: string): RunpodVolume {
  const byId = volumes.find((v) => v.id === idOrName)
  if (byId) return byId
  const named = volumes.filter((v) => v.name === idOrName)
  if (named.length > 1)
    throw new UserError(
      'bad-request',
      `${named.length} network volumes are named "${idOrName}": use the volume id (${named.map((v) => v.id).join(', ')}).`
    )
  if (!named[0])
    throw new UserError('not-found', `No network volume with the id or name "${idOrName}".`)
  return named[0]
}

export function volumeHandlers(core: PodPullCore, api: () => RunpodApi): VolumeHandlers {
  const fills = (): FillPods => new FillPods(core.store, api)
  const volumeTarget = (targetId: string): VolumeTarget => {
    const t = core.target(targetId)
    if (!(t instanceof VolumeTarget))
      throw new UserError('bad-request', `"${t.info().name}" is not a network-volume target.`)
    return t
  }
  const volumeOf = (
    targetId: string
  ): NonNullable<SshTargetConfig['runpodVolume']> & {
    config: SshTargetConfig
  } => {
    const config = core.storedTarget(targetId).config as SshTargetConfig
    return { ...config.runpodVolume!, config }
  }
  // One creation at a time per target: a double click must not start two pods.
  const filling = new Map<string, Promise<Awaited<ReturnType<ApiHandlers['runpodFill']>>>>()

  const fill: ApiHandlers['runpodFill'] = async ({ targetId, accept, bytes }) => {
    const target = volumeTarget(targetId)
    const vol = volumeOf(targetId)
    const running = await fills().runningWith(vol.id)
    if (running) {
      await target.usePod(running.id, running.costPerHr)
      return { plan: null, pod: target.info().fillPod ?? null }
    }
    const volume = (await api().listNetworkVolumes()).find((v) => v.id === vol.id)
    if (!volume)
      throw new UserError(
        'not-found',
        `The network volume "${vol.name}" (${vol.id}) is no longer in this RunPod account.`
      )
    const plan = fillPlan(volume, vol.maxPrice, bytes)
    if (!accept) return { plan, pod: null }
    const record = await fills().create({
      volume,
      targetId,
      workspace: vol.config.workspace,
      keyPath: vol.config.keyPath,
      maxPrice: vol.maxPrice,
      image: vol.image
    })
    try {
      await target.usePod(record.podId, record.costPerHr)
    } catch (err) {
      // A pod we cannot work through is of no use: it must not bill on.
      await target.finish(true).catch(() => undefined)
      await fills()
        .remove(record.podId)
        .catch(() => undefined)
      throw err
    }
    return { plan, pod: target.info().fillPod ?? null }
  }

  return {
    runpodVolumes: async () => {
      const seen = core.volumeUsage
      return (await api().listNetworkVolumes()).map((v) => ({
        ...v,
        usage: seen.get(v.id) ?? null
      }))
    },
    runpodAddVolume: async (args) => {
      const volume = pickVolume(await api().listNetworkVolumes(), args.volume)
      const already = core
        .targetInfos()
        .find((t) => t.config.kind === 'ssh' && t.config.runpodVolume?.id === volume.id)
      if (already)
        throw new UserError(
          'exists',
          `The volume "${volume.name}" is already the target "${already.name}".`
        )
      const config: SshTargetConfig = {
        kind: 'ssh',
        host: 'runpod-volume',
        port: 22,
        user: 'root',
        workspace: args.workspace,
        ...(args.keyPath ? { keyPath: args.keyPath } : {}),
        ...(args.comfyui ? { comfyui: args.comfyui } : {}),
        runpodVolume: {
          id: volume.id,
          name: volume.name,
          dataCenterId: volume.dataCenterId,
          ...(args.maxPrice !== undefined ? { maxPrice: args.maxPrice } : {}),
          ...(args.maxHours !== undefined ? { maxHours: args.maxHours } : {}),
          ...(args.image ? { image: args.image } : {})
        }
      }
      return core.addTarget(args.name ?? volume.name, config)
    },
    runpodFill: (args) => {
      const running = filling.get(args.targetId)
      if (running) return running
      const p = fill(args).finally(() => filling.delete(args.targetId))
      filling.set(args.targetId, p)
      return p
    },
    runpodFillDone: async ({ targetId, force }) => volumeTarget(targetId).finish(force),
    runpodReconcile: async () => {
      const exists = (id: string): boolean => {
        try {
          return core.target(id) instanceof VolumeTarget
        } catch {
          return false
        }
      }
      const { removed, kept } = await fills().reconcile({
        targetExists: exists,
        maxHours: (id) => (exists(id) ? volumeOf(id).maxHours : undefined) ?? DEFAULT_MAX_HOURS
      })
      // A pod that outlived its client: its target picks the work up again, and
      // removes the pod at once when nothing is left to do.
      const still: string[] = []
      for (const r of kept) {
        const target = volumeTarget(r.targetId)
        await target.open()
        const busy = target.downloads().some((d) => ACTIVE_STATES.includes(d.state))
        const bill = busy ? null : await target.finish(false).catch(() => null)
        if (bill) removed.push(bill)
        else still.push(r.podId)
      }
      return { removed, kept: still }
    }
  }
}
