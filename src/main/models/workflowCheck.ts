// A workflow's models against a target's inventory: present, missing with a
// source (the workflow's URL, or the catalog's file of that name), missing
// without one (with searches on Hugging Face and Civitai), and those the
// workflow names but does not use (never downloaded).
import type {
  Catalog,
  InstalledModels,
  ModelFile,
  WorkflowCheck,
  WorkflowItem
} from '../../shared/types'
import type { ParsedWorkflow, WorkflowModelRef } from '../../shared/workflow/parseWorkflow'
import { kindOfModelsDir } from '../../shared/modelFiles'
import { canonicalFolder } from './folders'

const base = (name: string): string => name.split('/').pop() ?? name

/** "kind/sub/name" of an installed file: under models/ its first directory
 *  names the kind (models/unet is diffusion_models); an extra folder's first
 *  part already is its yaml key's kind. */
function installedKey(m: ModelFile): string {
  const [head, ...rest] = m.folder.split('/')
  const kind = m.extra ? head! : kindOfModelsDir(head!)
  return [kind, ...rest, m.name].join('/')
}

function findInstalled(ref: WorkflowModelRef, inv: InstalledModels): string | undefined {
  const want = ref.directory ? `${canonicalFolder(ref.directory)}/${ref.name}` : undefined
  for (const m of inv.models) {
    const have = installedKey(m)
    if (want ? have === want : have.endsWith(`/${ref.name}`)) return m.path ?? have
  }
  return undefined
}

function search(name: string): WorkflowItem['search'] {
  const q = encodeURIComponent(base(name).replace(/\.[a-z0-9]+$/i, ''))
  return {
    huggingface: `https://huggingface.co/models?search=${q}`,
    civitai: `https://civitai.com/search/models?query=${q}`
  }
}

export function checkWorkflow(
  parsed: ParsedWorkflow,
  inv: InstalledModels,
  catalog: Catalog
): WorkflowCheck {
  const out: WorkflowCheck = {
    format: parsed.format,
    present: [],
    missing: [],
    unresolved: [],
    unused: parsed.unused.map((ref) => {
      const path = findInstalled(ref, inv)
      return {
        name: ref.name,
        directory: ref.directory,
        nodes: ref.nodes,
        reason: ref.reason,
        ...(ref.url ? { url: ref.url, source: 'workflow' as const } : {}),
        ...(path ? { path } : {})
      }
    }),
    refused: parsed.refused
  }
  const catalogFiles = catalog.sets.flatMap((s) => s.files)
  for (const ref of parsed.models) {
    const item: WorkflowItem = {
      name: ref.name,
      directory: ref.directory,
      nodes: ref.nodes,
      ...(ref.url ? { url: ref.url, source: 'workflow' as const } : {}),
      ...(ref.sha256 ? { sha256: ref.sha256 } : {})
    }
    const path = findInstalled(ref, inv)
    if (path) {
      out.present.push({ ...item, path })
      continue
    }
    if (!item.url) {
      const c = catalogFiles.find(
        (f) =>
          f.name === base(ref.name) &&
          (!ref.directory || canonicalFolder(ref.directory) === f.folder)
      )
      if (c) {
        item.url = c.url
        item.source = 'catalog'
        item.directory ??= c.folder
        if (c.sha256) item.sha256 ??= c.sha256
      }
    }
    if (item.url && item.directory) out.missing.push(item)
    else out.unresolved.push({ ...item, search: search(ref.name) })
  }
  return out
}
