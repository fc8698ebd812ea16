// The shapes PodPull reads from Hugging Face's and Civitai's JSON, checked
// before use: a hub that answers with something else (an outage page turned
// JSON, a changed API, a hostile mirror) gives one sentence, never a
// TypeError from deep inside a resolver. Fields that only decorate the answer
// fall back to "unknown" instead of failing the whole resolution.
import { z } from 'zod'
import { UserError } from '../errors'

/** Larger than any model file (1 PiB): a size beyond it is a hub's mistake. */
const MAX_PLAUSIBLE_SIZE = 2 ** 50

/** A byte count a hub stated, or null when it is missing, negative, fractional or absurd. */
export function plausibleSize(value: unknown): number | null {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= MAX_PLAUSIBLE_SIZE
    ? n
    : null
}

const optionalText = z.string().optional().catch(undefined)
const optionalId = z.number().int().nonnegative().optional().catch(undefined)

const civFile = z.object({
  id: optionalId,
  name: z.string().trim().min(1),
  /** Civitai states sizes in KiB, fractional. */
  sizeKB: z
    .unknown()
    .transform((kb) =>
      typeof kb === 'number' && Number.isFinite(kb) ? plausibleSize(Math.round(kb * 1024)) : null
    ),
  type: optionalText,
  primary: z.boolean().optional().catch(undefined),
  metadata: z
    .object({
      fp: z.string().nullish().catch(null),
      size: z.string().nullish().catch(null),
      format: z.string().nullish().catch(null)
    })
    .nullish()
    .catch(null),
  hashes: z.record(z.string(), z.unknown()).optional().catch(undefined),
  downloadUrl: optionalText
})

const civImage = z.object({
  url: z.string().min(1),
  /** 1 PG, 2 PG-13, 4 R, 8 X, 16 XXX (Civitai's bit flags). */
  nsfwLevel: z.number().optional().catch(undefined),
  /** The older form: false/"None", or "Soft"/"Mature"/"X". */
  nsfw: z.union([z.boolean(), z.string()]).optional().catch(undefined),
  width: z.number().int().positive().optional().catch(undefined),
  height: z.number().int().positive().optional().catch(undefined),
  type: optionalText
})

const civVersion = z.object({
  id: z.number().int().nonnegative(),
  modelId: optionalId,
  name: optionalText,
  baseModel: optionalText,
  availability: optionalText,
  earlyAccessEndsAt: z.string().nullish().catch(null),
  model: z.object({ name: optionalText, type: optionalText }).optional().catch(undefined),
  files: z.array(civFile).optional(),
  downloadUrl: optionalText,
  trainedWords: z.array(z.string()).optional().catch(undefined),
  /** Decoration only: a malformed entry drops the list, never the resolution. */
  images: z.array(civImage).optional().catch(undefined)
})

const civModel = z.object({
  id: z.number().int().nonnegative(),
  name: optionalText,
  type: optionalText,
  modelVersions: z.array(civVersion.omit({ model: true })).optional()
})

export type CivFile = z.infer<typeof civFile>
export type CivImage = z.infer<typeof civImage>
export type CivVersion = z.infer<typeof civVersion>
export type CivModel = z.infer<typeof civModel>

const hfTreeEntry = z.object({
  type: z.string(),
  path: z.string().min(1),
  size: z.unknown().transform(plausibleSize),
  lfs: z
    .object({ oid: optionalText, size: z.unknown().transform(plausibleSize) })
    .nullish()
    .catch(null)
})
export type HfTreeEntry = z.infer<typeof hfTreeEntry>

const hfInfo = z.object({
  id: optionalText,
  /** false, or "auto" / "manual" (how access requests are granted). */
  gated: z.union([z.boolean(), z.string()]).optional().catch(undefined),
  pipeline_tag: optionalText,
  cardData: z
    .object({
      license: z.string().optional().catch(undefined),
      base_model: z
        .union([z.string(), z.array(z.string())])
        .optional()
        .catch(undefined)
    })
    .nullish()
    .catch(null),
  siblings: z
    .array(
      z.object({
        rfilename: z.string().min(1),
        size: z.unknown().transform(plausibleSize),
        lfs: z
          .object({ sha256: optionalText, size: z.unknown().transform(plausibleSize) })
          .nullish()
          .catch(null)
      })
    )
    .optional()
    .catch(undefined)
})
export type HfInfo = z.infer<typeof hfInfo>

function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value)
  if (r.success) return r.data
  const issue = r.error.issues[0]
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : ''
  throw new UserError(
    'http',
    `${what} is not in the form PodPull reads (${where}${issue?.message ?? 'unexpected'}); try again later.`
  )
}

export const civitaiVersion = (v: unknown, what: string): CivVersion => checked(civVersion, v, what)
export const civitaiModel = (v: unknown, what: string): CivModel => checked(civModel, v, what)
export const hfTree = (v: unknown, what: string): HfTreeEntry[] =>
  checked(z.array(hfTreeEntry), v, what)
export const hfModelInfo = (v: unknown, what: string): HfInfo => checked(hfInfo, v, what)
