// The starter catalog (resources/catalog.json): curated sets of models with
// URLs and folders. Bundled into main at build time, checked once at load.
import { z } from 'zod'
import raw from '../../../resources/catalog.json'
import type { Catalog } from '../../shared/types'
import { COMFY_FOLDERS } from './folders'

const file = z.object({
  name: z.string().regex(/^[^/\\]+$/),
  folder: z.enum(COMFY_FOLDERS),
  url: z.string().url().startsWith('https://'),
  size: z.number().int().positive().nullable(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  gated: z.boolean().optional()
})
const schema = z.object({
  version: z.literal(1),
  sets: z.array(
    z.object({
      id: z.string().regex(/^[a-z0-9.-]+$/),
      name: z.string(),
      description: z.string(),
      licence: z.string(),
      gated: z.boolean(),
      page: z.string().url(),
      files: z.array(file).min(1)
    })
  )
})

let cached: Catalog | undefined

export function loadCatalog(data: unknown = raw): Catalog {
  if (data === raw && cached) return cached
  const parsed = schema.parse(data)
  const catalog: Catalog = { version: parsed.version, sets: parsed.sets }
  if (data === raw) cached = catalog
  return catalog
}
