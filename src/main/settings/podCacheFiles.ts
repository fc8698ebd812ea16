// Every pod's last snapshot (its downloads as last seen, when, its free space
// and ComfyUI folder), one file per pod in `pod-cache/` beside the settings
// file: a busy pod's snapshot runs to megabytes (see jsonFileDir.ts).
import { JsonFileDir } from './jsonFileDir'
import type { PodCacheEntry } from './storeSchema'

export class PodCacheFiles extends JsonFileDir<PodCacheEntry> {
  constructor(dir: string) {
    super(dir, (v) => Array.isArray(v.records))
  }

  /** The files of the settings file at `settingsPath`. */
  static beside(settingsPath: string): PodCacheFiles {
    return new PodCacheFiles(JsonFileDir.pathBeside(settingsPath, 'pod-cache'))
  }
}
