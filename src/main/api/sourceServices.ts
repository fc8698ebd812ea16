// What the handlers need from URL resolution and ComfyUI discovery. Kept as an
// interface so the handler table can be tested with the real implementations
// (src/main/api/createSourceServices.ts) or with a target-less stand-in.
import type { DownloadPreview, Resolution } from '../../shared/types'

export interface SourceServices {
  preview(url: string): Promise<DownloadPreview>
  isComfyInstall(dir: string): Promise<boolean>
  findComfyInstalls(): Promise<string[]>
  /** What a link (or Civitai AIR) means: its files, sizes, hashes, folders. */
  resolve?(input: string): Promise<Resolution>
}
