// RunPod pods as every process sees them (the account client in main, the CLI,
// the dashboard's RunPod section). No node/electron imports.
import type { ConnectionTestResult, TargetInfo } from './types'

export type RunpodStatus = 'RUNNING' | 'EXITED' | 'TERMINATED' | string

export interface SshRoute {
  /** 'direct': the pod's public IP and the public port mapped to 22; 'proxy': RunPod's SSH proxy. */
  via: 'direct' | 'proxy'
  host: string
  port: number
  user: string
}

export interface RunpodPod {
  id: string
  name: string
  status: RunpodStatus
  gpu: string | null
  gpuCount: number
  costPerHr: number | null
  /** When the container last started (ISO); a new value after a recreate. */
  lastStartedAt: string | null
  /** null while the pod is stopped or has neither a public port 22 nor a proxy id yet. */
  ssh: SshRoute | null
}

/** What importing a pod gives: the new target, or (first contact) the host key
 *  to confirm — then `target` is null and nothing was saved. */
export interface RunpodImportResult {
  target: TargetInfo | null
  test: ConnectionTestResult | null
  via: SshRoute['via']
}
