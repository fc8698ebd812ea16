// `podpull runpod pods|start|stop` and `podpull targets import-runpod`: the
// RunPod account from the command line. Everything goes through the same
// handler table as the app; RUNPOD_API_KEY supplies the key.
import { InvalidArgumentError, type Command } from 'commander'
import { resolve } from 'node:path'
import type { ApiArgs, ApiMethod, ApiResults } from '../shared/api'
import {
  FILL_IMAGE,
  PRICES_AS_OF,
  type FillBill,
  type FillPodState,
  type RunpodPod,
  type RunpodVolume
} from '../shared/runpod'
import { formatAgo, formatBytes } from '../shared/format'
import type { TargetInfo } from '../shared/types'
import { say, sayJson, warn } from './terminalOut'

export interface RunpodCliDeps {
  call<M extends ApiMethod>(m: M, args: ApiArgs<M>): Promise<ApiResults[M]>
  /** An error that exits 2 (bad usage) or 1 (failed) with its message. */
  usage(message: string): Error
  failed(message: string): Error
}

const money = (v: number | null): string => (v === null ? '-' : `$${v.toFixed(2)}/h`)
const route = (p: RunpodPod): string =>
  !p.ssh
    ? '-'
    : p.ssh.via === 'direct'
      ? `${p.ssh.host}:${p.ssh.port}`
      : `${p.ssh.user}@${p.ssh.host} (proxy)`

function table(pods: RunpodPod[]): string {
  return columns([
    ['NAME', 'ID', 'STATUS', 'GPU', 'COST', 'SSH'],
    ...pods.map((p) => [
      p.name,
      p.id,
      p.status,
      p.gpu ? `${p.gpuCount > 1 ? `${p.gpuCount}x ` : ''}${p.gpu}` : '-',
      money(p.costPerHr),
      route(p)
    ])
  ])
}

function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd()
      )
      .join('\n') + '\n'
  )
}

function pick(pods: RunpodPod[], idOrName: string, d: RunpodCliDeps): RunpodPod {
  const byId = pods.find((p) => p.id === idOrName)
  if (byId) return byId
  const named = pods.filter((p) => p.name === idOrName)
  if (named.length > 1)
    throw d.usage(
      `${named.length} RunPod pods are named "${idOrName}": use the pod id (${named.map((p) => p.id).join(', ')}).`
    )
  if (!named[0]) throw d.usage(`No RunPod pod with the id or name "${idOrName}" in this account.`)
  return named[0]
}

/** Money as the bill shows it: "$0.06", "$1.20". */
const usd = (v: number): string => `$${v.toFixed(2)}`

/** "fill pod cpu1ab (ours): running 14 min, ≈ $0.02 so far" */
export function fillPodLine(p: FillPodState): string {
  const min = p.startedAt ? Math.max(0, Math.round((Date.now() - p.startedAt) / 60_000)) : null
  const cost =
    min !== null && p.costPerHr !== null
      ? `, ≈ ${usd((min / 60) * p.costPerHr)} so far${p.costEstimated ? ' (estimated price)' : ''}`
      : ''
  const who = p.ours ? 'CPU fill pod' : 'your pod'
  return `${who} ${p.podId}: ${p.status}${min !== null ? ` for ${min} min` : ''}${cost}${p.ours ? ' (removed when the downloads finish)' : ' (PodPull never removes it)'}`
}

export const billLine = (b: FillBill): string => {
  const min = Math.max(1, Math.round(b.ranMs / 60_000))
  return `CPU pod ran ${min} min, ≈ ${usd(b.cost)}${b.estimated ? ' (estimated price)' : ''}`
}

/**
 * Before work on a volume target: a pod with the volume must be running. One
 * already running is used; else the plan and its cost are shown, and the CPU
 * fill pod is created only with --yes.
 */
export async function ensureVolumePod(
  info: TargetInfo,
  yes: boolean | undefined,
  d: RunpodCliDeps
): Promise<void> {
  if (info.config.kind !== 'ssh' || !info.config.runpodVolume) return
  const first = await d.call('runpodFill', { targetId: info.id, accept: false })
  if (first.pod) return
  const plan = first.plan!
  if (!yes)
    throw d.usage(
      `No pod has the volume "${plan.volumeName}" mounted. PodPull ${plan.summary}. Add --yes to accept.`
    )
  warn(`PodPull ${plan.summary}…\n`)
  const done = await d.call('runpodFill', { targetId: info.id, accept: true })
  if (done.pod) warn(`CPU pod ${done.pod.podId} is up.\n`)
}

/** After work on a volume target: removes the fill pod if its queue is done, and says what it cost. */
export async function settleVolumePod(
  info: TargetInfo,
  d: RunpodCliDeps,
  force = false
): Promise<void> {
  if (info.config.kind !== 'ssh' || !info.config.runpodVolume) return
  const bill = await d.call('runpodFillDone', { targetId: info.id, force })
  if (bill) warn(`${billLine(bill)}; the pod was removed.\n`)
}

function volumeTable(volumes: RunpodVolume[], targets: TargetInfo[]): string {
  const targetOf = (v: RunpodVolume): string =>
    targets.find((t) => t.config.kind === 'ssh' && t.config.runpodVolume?.id === v.id)?.name ?? '-'
  // RunPod reports only the size: the used space is PodPull's last listing.
  const used = (v: RunpodVolume): string =>
    v.usage ? `${formatBytes(v.usage.usedBytes)}, as of ${formatAgo(v.usage.at)}` : 'unknown'
  return columns([
    ['NAME', 'ID', 'DATACENTER', 'SIZE', 'MODELS USE', 'TARGET'],
    ...volumes.map((v) => [
      v.name,
      v.id,
      v.dataCenterId || '-',
      `${v.sizeGb} GB`,
      used(v),
      targetOf(v)
    ])
  ])
}

/** How a fill works and what tunes it, under `targets add-runpod-volume --help`. */
const FILL_HELP = `
A download to a volume target with no pod that has the volume mounted starts a
CPU fill pod in the volume's datacenter once you accept its cost (--yes), and
removes it when the downloads finish. Prices before the pod exists come from
PodPull's ${PRICES_AS_OF} list (RunPod's quote replaces them once it does);
every figure from the list is marked as an estimate.

Environment:
  PODPULL_FILL_IMAGE         image for fill pods whose target sets no --image
  PODPULL_FILL_MAX_SECONDS   the pod's own watchdog removes it after this many
                             seconds when that is sooner than --max-hours
                             (it can only shorten the lifetime)
  PODPULL_FILL_IDLE_SECONDS  the watchdog removes the pod after this long with
                             nothing active on the volume and no PodPull
                             connected (300)
  PODPULL_CPU_PRICES         replace list prices, e.g. "cpu3c=0.07,cpu5c=0.11"
`

const price = (v: string): number => {
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number.')
  return n
}

export function registerRunpodCommands(program: Command, targets: Command, d: RunpodCliDeps): void {
  const runpod = program
    .command('runpod')
    .description('pods of your RunPod account (RUNPOD_API_KEY)')
  runpod
    .command('pods')
    .description('list the pods with their state, GPU and SSH address')
    .option('--json', 'machine-readable')
    .action(async (o: { json?: boolean }) => {
      const pods = await d.call('runpodPods', {})
      if (o.json) sayJson(pods)
      else if (!pods.length) say('No pods in this RunPod account.\n')
      else say(table(pods))
    })
  runpod
    .command('volumes')
    .description(
      'list the network volumes with their datacenter, size and the space their models use (as PodPull last listed them)'
    )
    .option('--json', 'machine-readable')
    .action(async (o: { json?: boolean }) => {
      const volumes = await d.call('runpodVolumes', {})
      if (o.json) sayJson(volumes)
      else if (!volumes.length) say('No network volumes in this RunPod account.\n')
      else {
        say(volumeTable(volumes, (await d.call('getSnapshot', {})).targets))
        if (volumes.some((v) => !v.usage))
          say(
            '"unknown": no pod with that volume has been listed yet (RunPod gives only the size); a fill, or any PodPull command through a pod that has it mounted, lists it.\n'
          )
      }
    })
  targets
    .command('add-runpod-volume <name>')
    .description('add a network volume as a target (filled by a CPU pod when no pod has it)')
    .requiredOption('--volume <id|name>', 'the network volume')
    .option('--key <file>', 'private key file whose public key the fill pod trusts')
    .option('--workspace <dir>', 'where pods mount the volume', '/workspace')
    .option('--comfyui <dir>', 'ComfyUI folder on the volume (default: probed)')
    .option('--max-price <usd>', 'highest $/h a fill pod may cost', price)
    .option('--max-hours <h>', 'a fill pod is removed after this long whatever happens (6)', price)
    .option('--image <ref>', `the fill pod's image, with sshd and python3 (${FILL_IMAGE})`)
    .addHelpText('after', FILL_HELP)
    .action(async (name: string, o: Record<string, string | number | undefined>) => {
      const t = await d.call('runpodAddVolume', {
        name,
        volume: String(o.volume),
        keyPath: typeof o.key === 'string' ? resolve(o.key) : undefined,
        workspace: String(o.workspace),
        comfyui: typeof o.comfyui === 'string' ? o.comfyui : undefined,
        maxPrice: typeof o.maxPrice === 'number' ? o.maxPrice : undefined,
        maxHours: typeof o.maxHours === 'number' ? o.maxHours : undefined,
        image: typeof o.image === 'string' ? o.image : undefined
      })
      const v = t.config.kind === 'ssh' ? t.config.runpodVolume : undefined
      say(
        `Added volume "${v?.name}" (${v?.id}, ${v?.dataCenterId}) as target "${t.name}" (${t.id}).\n` +
          (t.fillPod
            ? `It is mounted on pod ${t.fillPod.podId}.\n`
            : 'No pod has it mounted: a download starts a CPU fill pod once you accept its cost (--yes).\n')
      )
    })
  for (const verb of ['start', 'stop'] as const) {
    runpod
      .command(`${verb} <name>`)
      .description(`${verb} a pod (an imported target's name, a pod id or a pod name)`)
      .action(async (name: string) => {
        const pod = await d.call(verb === 'start' ? 'runpodStart' : 'runpodStop', { pod: name })
        say(
          `${verb === 'start' ? 'Started' : 'Stopped'} pod "${pod.name}" (${pod.id}): ${pod.status}.\n`
        )
      })
  }

  targets
    .command('import-runpod <pod>')
    .description('add a pod of your RunPod account as a target (by pod id or name)')
    .option('--name <name>', 'target name (default: the pod name)')
    .option('--key <file>', 'private key file (default: ssh-agent)')
    .option('--workspace <dir>', 'pod workspace', '/workspace')
    .option('--comfyui <dir>', 'ComfyUI folder on the pod (default: probed)')
    .option('--accept-new-host-key', 'trust the host key on first contact')
    .option(
      '--stop-when-done',
      'stop the pod once its downloads have finished (it costs by the hour)'
    )
    .action(async (podArg: string, o: Record<string, string | boolean | undefined>) => {
      const pod = pick(await d.call('runpodPods', {}), podArg, d)
      if (pod.status !== 'RUNNING')
        throw d.failed(
          `The pod "${pod.name}" is not running (${pod.status}): start it with "podpull runpod start ${pod.id}".`
        )
      if (!pod.ssh)
        throw d.failed(`The pod "${pod.name}" has no SSH access yet: try again in a minute.`)
      const input = {
        kind: 'ssh' as const,
        name: typeof o.name === 'string' ? o.name : pod.name,
        host: pod.ssh.host,
        port: pod.ssh.port,
        user: pod.ssh.user,
        keyPath: typeof o.key === 'string' ? resolve(o.key) : undefined,
        workspace: String(o.workspace),
        comfyui: typeof o.comfyui === 'string' ? o.comfyui : undefined,
        secret: process.env.PODPULL_SSH_SECRET || undefined,
        runpodPodId: pod.id,
        ...(o.stopWhenDone ? { stopWhenDone: true } : {})
      }
      const probe = await d.call('testConnection', input)
      let acceptHostKey: string | undefined
      if (probe.needsHostKeyConfirmation) {
        if (!o.acceptNewHostKey)
          throw d.usage(
            `The host key of the pod "${pod.name}" is not trusted yet (${probe.fingerprint}). ` +
              'Check it, then add --accept-new-host-key.'
          )
        acceptHostKey = probe.fingerprint
      } else if (!probe.ok) throw d.failed(probe.message)
      const t = await d.call('addTarget', { ...input, acceptHostKey })
      const via =
        pod.ssh.via === 'direct' ? `${pod.ssh.host}:${pod.ssh.port}` : "RunPod's SSH proxy"
      // The helper's probe finds the ComfyUI folder (now that the key is trusted).
      const comfy =
        t.comfyui ??
        probe.comfyui ??
        (await d.call('testConnection', { id: t.id }).catch(() => null))?.comfyui
      say(`Added pod "${t.name}" (${t.id}) via ${via}${comfy ? `, ComfyUI at ${comfy}` : ''}.\n`)
    })
}
