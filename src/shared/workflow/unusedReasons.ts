// Why a model a workflow names is not needed by it, in the words the CLI and
// the dashboard show ("not used by this workflow: its node is bypassed").
export const UNUSED_REASONS = [
  'its node is muted',
  'its node is bypassed',
  'its subgraph node is muted',
  'its subgraph node is bypassed',
  'it is in a subgraph the workflow does not use',
  'its node lists it but does not select it',
  'the workflow lists it, but no node uses it',
  'the workflow does not use it'
] as const

export type UnusedReason = (typeof UNUSED_REASONS)[number]

/** LiteGraph's node modes: 2 is "never" (muted), 4 is bypass. */
export function inactiveReason(mode: unknown, inside: boolean): UnusedReason | undefined {
  if (mode === 2) return inside ? 'its subgraph node is muted' : 'its node is muted'
  if (mode === 4) return inside ? 'its subgraph node is bypassed' : 'its node is bypassed'
  return undefined
}
