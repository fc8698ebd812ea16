// What PodPull last saw of each RunPod network volume's model files (RunPod's
// API gives only a volume's size), one file per volume in `volume-usage/`
// beside the settings file, out of config.json (see jsonFileDir.ts): one is
// added for every volume ever listed through a pod.
import type { VolumeUsage } from '../../shared/runpod'
import { JsonFileDir } from './jsonFileDir'

export class VolumeUsageFiles extends JsonFileDir<VolumeUsage> {
  constructor(dir: string) {
    super(dir, (v) => typeof v.usedBytes === 'number' && typeof v.at === 'number')
  }

  /** The files of the settings file at `settingsPath`. */
  static beside(settingsPath: string): VolumeUsageFiles {
    return new VolumeUsageFiles(JsonFileDir.pathBeside(settingsPath, 'volume-usage'))
  }
}
