// What a target offers for its installed models: the inventory
// (with extra_model_paths.yaml and leftover .part files), delete, sha256.
// Local targets work on the disk; pod targets ask the helper, so a hash is
// computed on the pod and a file is never copied to compute it.
import type { InstalledModels } from '../../shared/types'
import type { SourceRecord } from './sourceRecord'

export interface TargetModels {
  installed(): Promise<InstalledModels>
  /** Deletes a listed model file, or a listed .part with its sidecar. */
  remove(path: string): Promise<void>
  /** The sha256 of a listed model file, computed where it lives. */
  sha256(path: string): Promise<string>
  /** The directory a download into `folder` goes to (extra_model_paths.yaml honoured). */
  directoryFor(folder: string): Promise<{ dir: string; extra: boolean }>
  /** Where each file this workspace downloaded came from, by absolute path. */
  sources(): Promise<Map<string, SourceRecord>>
}
