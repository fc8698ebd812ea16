// How a missing workflow model becomes a download: its folder (with the
// sub-folder the workflow's name carries) and its plain file name.
import type { WorkflowItem } from '../types'

export function downloadArgsFor(item: WorkflowItem): {
  url: string
  folder: string
  filename: string
  sha256?: string
} {
  if (!item.url || !item.directory) throw new Error(`${item.name} has no source to download from.`)
  const parts = item.name.split('/')
  const filename = parts.pop()!
  return {
    url: item.url,
    folder: [item.directory, ...parts].join('/'),
    filename,
    ...(item.sha256 ? { sha256: item.sha256 } : {})
  }
}
