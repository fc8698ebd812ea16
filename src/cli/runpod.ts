// `podpull runpod pods|start|stop` and `podpull targets import-runpod`: the
// RunPod account from the command line. Everything goes through the same
// handler table as the app; RUNPOD_API_KEY supplies the key.
import type { Command } from 'commander'
import { resolve } from 'node:path'
import type { ApiArgs, ApiMethod, ApiResults } from '../shared/api'
import type { RunpodPod } from '../shared/runpod'
import { say, sayJson } from './terminalOut'

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
  const rows = [
    ['NAME', 'ID', 'STATUS', 'GPU', 'COST', 'SSH'],
    ...pods.map((p) => [
      p.name,
      p.id,
      p.status,
      p.gpu ? `${p.gpuCount > 1 ? `${p.gpuCount}x ` : ''}${p.gpu}` : '-',
      money(p.costPerHr),
      route(p)
    ])
  ]
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
