// What a target offers for its installed models: the inventory
// (with extra_model_paths.yaml and leftover .part files), delete, sha256.
// Local targets work on the disk; pod targets ask the helper, so a hash is
// computed on the pod and a file is never copied to compute it.
import type { InstalledModels, KeepOnePending } from '../../shared/types'
import type { SourceRecord } from './sourceRecord'

export interface TargetModels {
  installed(): Promise<InstalledModels>
  /** Deletes a listed model file, or a listed .part with its sidecar. */
  remove(path: string): Promise<void>
  /** The sha256 of a listed model file, computed where it lives. */
  sha256(path: string): Promise<string>
  /** The directory a download into `folder` goes to (extra_model_paths.yaml honoured). */
  directoryFor(folder: string): Promise<{ dir: string; extra: boolean }>
  /** "Keep one, link the others" for a duplicated content (`keep`: the path to keep,
   *  else the first listed); undo-able until settled. */
  keepOne(sha256: string, keep?: string): Promise<KeepOnePending>
  /** Confirms (deletes the kept-aside old contents) or undoes a pending keep-one. */
  settleKeepOne(op: string, undo: boolean): Promise<{ restored: string[]; reclaimed: number }>
  pendingKeepOnes(): Promise<KeepOnePending[]>
  /** Where each file this workspace downloaded came from, by absolute path. */
  sources(): Promise<Map<string, SourceRecord>>
}
