// The model set file (`*.podpull.json`, docs/formats.md "Model set"): the
// models one setup needs, exported from a target and applied to many. Kept
// here so main, the CLI and the dashboard read and write the same format.
import { z } from 'zod'

export const MODEL_SET_VERSION = 1

/** A 40-hex git commit id: a Hugging Face revision that can no longer move. */
export const HF_COMMIT = /^[0-9a-f]{40}$/

const sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters')
  .transform((s) => s.toLowerCase())
const folder = z
  .string()
  .min(1, 'must not be empty')
  .max(200)
  .refine(
    (f) => !f.includes('\\') && !f.split('/').some((p) => p === '..' || p === '.' || p === ''),
    'must be a folder inside models/ (no "..", no empty part)'
  )
const fileName = z
  .string()
  .min(1, 'must not be empty')
  .max(255)
  .refine(
    (f) => !f.includes('/') && !f.includes('\\') && f !== '.' && f !== '..',
    'must be a plain file name'
  )
const httpUrl = z
  .string()
  .max(8192)
  .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL')

const source = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('url'), url: httpUrl }).strict(),
  z
    .object({
      kind: z.literal('huggingface'),
      repo: z
        .string()
        .regex(/^(datasets\/)?[\w.-]+\/[\w.-]+$/, 'must be "org/name" (or "datasets/org/name")'),
      file: z
        .string()
        .min(1)
        .max(1024)
        .refine(
          (f) => !f.split('/').some((p) => p === '..' || p === ''),
          'must be a path in the repo'
        ),
      revision: z.string().regex(/^[\w.-]{1,100}$/, 'must be a commit hash or a branch name')
    })
    .strict(),
  z.object({ kind: z.literal('civitai'), versionId: z.number().int().positive() }).strict(),
  z.object({ kind: z.literal('local') }).strict()
])

const entry = z
  .object({
    source,
    folder,
    name: fileName,
    size: z.number().int().nonnegative().nullable().optional(),
    sha256: sha256.nullable().optional()
  })
  .strict()
  .refine((e) => e.source.kind !== 'local' || !!e.sha256, {
    message: 'a "local" entry must carry its sha256',
    path: ['sha256']
  })

export const modelSetSchema = z
  .object({
    format: z.literal('podpull-model-set', { message: 'must be "podpull-model-set"' }),
    version: z.literal(MODEL_SET_VERSION, {
      message: `must be ${MODEL_SET_VERSION} (this PodPull reads version ${MODEL_SET_VERSION})`
    }),
    name: z.string().trim().min(1, 'must not be empty').max(200),
    description: z.string().max(4000).optional(),
    created: z.string().max(100).optional(),
    models: z.array(entry).max(10_000)
  })
  .strict()

export type ModelSet = z.output<typeof modelSetSchema>
export type ModelSetEntry = ModelSet['models'][number]
export type ModelSetSource = ModelSetEntry['source']

export class ModelSetError extends Error {
  constructor(readonly problems: string[]) {
    super(`Not a valid model set:\n  ${problems.join('\n  ')}`)
  }
}

/** "models[3].folder" from a zod path. */
function where(path: PropertyKey[]): string {
  let s = ''
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : `${s ? '.' : ''}${String(p)}`
  return s || '(file)'
}

/** The line a JSON text has its `index`-th entry of "models" on (1-based), when findable. */
function lineOfEntry(text: string, index: number): number | undefined {
  const start = text.search(/"models"\s*:\s*\[/)
  if (start < 0) return undefined
  // Walk the array counting top-level objects; strings are skipped whole.
  let depth = 0
  let seen = -1
  for (let i = text.indexOf('[', start) + 1; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++
      continue
    }
    if (c === '{' || c === '[') {
      if (depth === 0 && ++seen === index) return text.slice(0, i).split('\n').length
      depth++
    } else if (c === '}' || c === ']') {
      if (depth === 0) return undefined
      depth--
    }
  }
  return undefined
}

/** Parses and checks a set file's text; every problem names its entry, field and line. */
export function parseModelSet(text: string): ModelSet {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new ModelSetError([`not JSON: ${(err as Error).message}`])
  }
  const r = modelSetSchema.safeParse(data)
  if (r.success) return r.data
  const problems = r.error.issues.slice(0, 20).map((i) => {
    const line =
      i.path[0] === 'models' && typeof i.path[1] === 'number'
        ? lineOfEntry(text, i.path[1])
        : undefined
    return `${where(i.path)}: ${i.message}${line ? ` (line ${line})` : ''}`
  })
  throw new ModelSetError(problems)
}

/** The text a set is written as: stable key order, one entry per few lines. */
export function formatModelSet(set: ModelSet): string {
  return `${JSON.stringify(set, null, 2)}\n`
}

/** Where a set entry is fetched from; null for a "local" entry (pushed, not fetched). */
export function entryUrl(
  s: ModelSetSource,
  endpoints: { huggingface: string; civitai: string }
): string | null {
  const base = (b: string) => b.replace(/\/+$/, '')
  switch (s.kind) {
    case 'url':
      return s.url
    case 'huggingface': {
      const file = s.file.split('/').map(encodeURIComponent).join('/')
      return `${base(endpoints.huggingface)}/${s.repo}/resolve/${encodeURIComponent(s.revision)}/${file}`
    }
    case 'civitai':
      return `${base(endpoints.civitai)}/api/download/models/${s.versionId}`
    case 'local':
      return null
  }
}
